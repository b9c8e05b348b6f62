/**
 * Claim check for media bytes: events carry this reference (Avro `tributary.common.BlobRef`),
 * never the bytes themselves beyond a small size. Consumers verify `sha256` before use.
 */
export interface BlobRef {
  /** Where the bytes live, e.g. `blob:sha256/<hex>` for the local store or `s3://bucket/key`. */
  uri: string;
  /** Size in bytes. */
  size: number;
  /** IANA media type, e.g. `image/png`. */
  mediaType: string;
  /** Lower-case hex SHA-256 of the bytes. */
  sha256: string;
}

/** A content-addressed store of media bytes. */
export interface BlobStore {
  /** Stores the bytes (idempotent: the same bytes give the same ref) and returns the claim check. */
  put(bytes: Uint8Array, mediaType: string): Promise<BlobRef>;
  /** Reads the bytes and verifies size and SHA-256; throws HubError BLOB_HASH_MISMATCH or BLOB_NOT_FOUND. */
  get(ref: BlobRef): Promise<Buffer>;
  /** True when the store holds bytes for this ref. */
  has(ref: BlobRef): Promise<boolean>;
}
