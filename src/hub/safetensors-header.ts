/** A tensor entry of a safetensors header. */
export interface SafetensorsTensor {
  name: string;
  dtype: 'F8_E4M3' | 'F32' | 'BF16';
  shape: number[];
}

const BYTES_PER_ELEMENT: Record<SafetensorsTensor['dtype'], number> = { F8_E4M3: 1, F32: 4, BF16: 2 };

/** Bytes one tensor takes in the data section. */
export function tensorSizeBytes(tensor: SafetensorsTensor): number {
  return tensor.shape.reduce((product, dim) => product * dim, 1) * BYTES_PER_ELEMENT[tensor.dtype];
}

/**
 * The bytes before the data section of a safetensors file: an 8-byte little-endian header length, then the JSON
 * header (tensors with `data_offsets` into the data section), padded with spaces to an 8-byte boundary.
 */
export function encodeSafetensorsHeader(
  tensors: SafetensorsTensor[],
  metadata: Record<string, string> = { format: 'pt' },
): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const tensor of tensors) {
    const size = tensorSizeBytes(tensor);
    header[tensor.name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([prefix, Buffer.from(json)]);
}

/** Parses the header of a safetensors file's first bytes; throws when the bytes are not a safetensors header. */
export function decodeSafetensorsHeader(bytes: Buffer): { headerBytes: number; header: Record<string, unknown> } {
  if (bytes.length < 8) throw new Error('safetensors: shorter than the 8-byte header length');
  const length = Number(bytes.readBigUInt64LE(0));
  if (length > 100_000_000 || bytes.length < 8 + length)
    throw new Error(`safetensors: header length ${length} exceeds the bytes given`);
  return {
    headerBytes: 8 + length,
    header: JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')) as Record<string, unknown>,
  };
}
