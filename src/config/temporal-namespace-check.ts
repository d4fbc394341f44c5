import { SearchAttributeType } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../shared/search-attributes';

type IndexedValueType = temporal.api.enums.v1.IndexedValueType;
const Indexed = temporal.api.enums.v1.IndexedValueType;

/** The temporal CLI's spelling of each search-attribute type (`--type Keyword`, `--search-attribute NAME=Int`). */
export const CLI_SEARCH_ATTRIBUTE_TYPES: Record<SearchAttributeType, string> = {
  [SearchAttributeType.TEXT]: 'Text',
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.INT]: 'Int',
  [SearchAttributeType.DOUBLE]: 'Double',
  [SearchAttributeType.BOOL]: 'Bool',
  [SearchAttributeType.DATETIME]: 'Datetime',
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
};

/** The server's enum for each SDK type, to compare with what ListSearchAttributes reports. */
const INDEXED_TYPES: Record<SearchAttributeType, IndexedValueType> = {
  [SearchAttributeType.TEXT]: Indexed.INDEXED_VALUE_TYPE_TEXT,
  [SearchAttributeType.KEYWORD]: Indexed.INDEXED_VALUE_TYPE_KEYWORD,
  [SearchAttributeType.INT]: Indexed.INDEXED_VALUE_TYPE_INT,
  [SearchAttributeType.DOUBLE]: Indexed.INDEXED_VALUE_TYPE_DOUBLE,
  [SearchAttributeType.BOOL]: Indexed.INDEXED_VALUE_TYPE_BOOL,
  [SearchAttributeType.DATETIME]: Indexed.INDEXED_VALUE_TYPE_DATETIME,
  [SearchAttributeType.KEYWORD_LIST]: Indexed.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

/** The two calls a namespace check makes; the client's Connection and the worker's NativeConnection both have them. */
export interface NamespaceServices {
  workflowService: {
    describeNamespace(request: temporal.api.workflowservice.v1.IDescribeNamespaceRequest): Promise<unknown>;
  };
  operatorService: {
    listSearchAttributes(
      request: temporal.api.operatorservice.v1.IListSearchAttributesRequest,
    ): Promise<temporal.api.operatorservice.v1.IListSearchAttributesResponse>;
  };
}

/**
 * Why a namespace cannot run glm-ops workflows. The message is one line (problem: fix); `commands` are the exact
 * commands to run, for callers that print one per line (the worker).
 */
export class NamespaceNotReadyError extends Error {
  constructor(
    readonly problem: string,
    fix: string,
    readonly commands: string[],
  ) {
    super(`${problem}: ${fix}`);
    this.name = 'NamespaceNotReadyError';
  }
}

/** A search attribute glm-ops sets that the namespace lacks, or has under another type. */
export interface SearchAttributeProblem {
  name: string;
  needed: string;
  /** The type the namespace has it as, when it has it at all. */
  registeredAs?: string;
}

/** The gRPC status code of a failed call, from either connection kind. */
function grpcCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

const GRPC_NOT_FOUND = 5;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_UNIMPLEMENTED = 12;

function cliTypeOf(indexed: IndexedValueType): string {
  const entry = (Object.entries(INDEXED_TYPES) as [SearchAttributeType, IndexedValueType][]).find(
    ([, value]) => value === indexed,
  );
  return entry ? CLI_SEARCH_ATTRIBUTE_TYPES[entry[0]] : `type ${indexed}`;
}

/** Compares what the namespace has with what glm-ops sets (pure, for the check and its unit test). */
export function searchAttributeProblems(
  registered: Record<string, IndexedValueType | null | undefined>,
  needed: readonly { name: string; type: SearchAttributeType }[] = CUSTOM_SEARCH_ATTRIBUTES,
): SearchAttributeProblem[] {
  const problems: SearchAttributeProblem[] = [];
  for (const key of needed) {
    const has = registered[key.name];
    if (has === INDEXED_TYPES[key.type]) continue;
    problems.push({
      name: key.name,
      needed: CLI_SEARCH_ATTRIBUTE_TYPES[key.type],
      ...(has === undefined || has === null ? {} : { registeredAs: cliTypeOf(has) }),
    });
  }
  return problems;
}

/** The commands that fix each problem: create a missing attribute; remove and re-create a mistyped one. */
export function searchAttributeCommands(
  problems: SearchAttributeProblem[],
  address: string,
  namespace: string,
): string[] {
  const base = `temporal operator search-attribute`;
  const target = `--address ${address} --namespace ${namespace} --name`;
  return problems.flatMap((p) => [
    ...(p.registeredAs === undefined ? [] : [`${base} remove ${target} ${p.name} --yes`]),
    `${base} create ${target} ${p.name} --type ${p.needed}`,
  ]);
}

/**
 * Checks that the namespace exists and has glm-ops' search attributes (rollouts set them at start, so a namespace
 * without them fails every start). Throws NamespaceNotReadyError with the commands to run; returns warnings when the
 * server would not list the attributes (a key without that permission), since the namespace may still be fine.
 */
export async function checkNamespace(
  services: NamespaceServices,
  target: { address: string; namespace: string },
): Promise<{ warnings: string[] }> {
  const { address, namespace } = target;
  try {
    await services.workflowService.describeNamespace({ namespace });
  } catch (err) {
    if (grpcCode(err) !== GRPC_NOT_FOUND) throw err;
    const create = `temporal operator namespace create --address ${address} --namespace ${namespace}`;
    throw new NamespaceNotReadyError(
      `namespace ${namespace} does not exist at ${address}`,
      `create it with \`${create}\` (on Temporal Cloud, in the Cloud UI), or point TEMPORAL_NAMESPACE or the profile at one that exists`,
      [create],
    );
  }
  let registered: temporal.api.operatorservice.v1.IListSearchAttributesResponse;
  try {
    registered = await services.operatorService.listSearchAttributes({ namespace });
  } catch (err) {
    const code = grpcCode(err);
    if (code !== GRPC_PERMISSION_DENIED && code !== GRPC_UNIMPLEMENTED) throw err;
    const names = CUSTOM_SEARCH_ATTRIBUTES.map((k) => `${k.name} (${CLI_SEARCH_ATTRIBUTE_TYPES[k.type]})`).join(', ');
    return {
      warnings: [
        `could not list the search attributes of namespace ${namespace} (${err instanceof Error ? err.message : String(err)}): make sure ${names} are registered`,
      ],
    };
  }
  const problems = searchAttributeProblems(registered.customAttributes ?? {});
  if (problems.length === 0) return { warnings: [] };
  const missing = problems.filter((p) => p.registeredAs === undefined);
  const mistyped = problems.filter((p) => p.registeredAs !== undefined);
  const sentences: string[] = [];
  if (missing.length > 0) {
    sentences.push(
      `namespace ${namespace} at ${address} lacks the glm-ops search attributes ${missing.map((p) => `${p.name} (${p.needed})`).join(', ')}, which every rollout sets at start`,
    );
  }
  for (const p of mistyped) {
    sentences.push(
      `search attribute ${p.name} in namespace ${namespace} is registered as ${p.registeredAs}, glm-ops needs ${p.needed}`,
    );
  }
  const fix = `register them with \`temporal operator search-attribute create --address ${address} --namespace ${namespace} --name NAME --type TYPE\` (${mistyped.length > 0 ? 'remove a mistyped one first; ' : ''}\`glm-ops worker\` prints each command)`;
  throw new NamespaceNotReadyError(sentences.join('; '), fix, searchAttributeCommands(problems, address, namespace));
}
