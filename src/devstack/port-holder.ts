import * as fs from 'node:fs';
import { commandLine } from './process-control';

/** The process that listens on a TCP port, as /proc tells it. */
export interface PortHolder {
  pid: number;
  /** Its command line; empty when /proc hides it. */
  command: string;
}

const LISTEN = '0A';

/** Socket inodes listening on the port (any local address, IPv4 and IPv6), from /proc/net/tcp{,6}. */
export function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== LISTEN) continue;
      const localPort = parseInt(fields[1]!.split(':').pop() ?? '', 16);
      if (localPort === port && fields[9] !== '0') inodes.add(fields[9]!);
    }
  }
  return inodes;
}

/**
 * Who listens on the port: the first process with an open descriptor on one of its listening sockets. Undefined when
 * nothing listens, or when the holder's /proc entries are not readable by this user.
 */
export function portHolder(port: number): PortHolder | undefined {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return undefined;
  const targets = new Set([...inodes].map((inode) => `socket:[${inode}]`));
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (targets.has(link)) return { pid: Number(pid), command: commandLine(Number(pid)) ?? '' };
    }
  }
  return undefined;
}

/** Thrown when a service must come back on its recorded port and another program listens there; names the holder. */
export class PortTakenError extends Error {
  constructor(
    readonly port: number,
    readonly holder: PortHolder | undefined,
    purpose: string,
    fix: string,
  ) {
    const who = holder
      ? `pid ${holder.pid} (${holder.command || 'command line not readable'})`
      : 'a process this user cannot see in /proc';
    super(`port ${port} ${purpose} is taken by ${who}: ${fix}`);
    this.name = 'PortTakenError';
  }
}
