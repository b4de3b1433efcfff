import Foundation

/// What a blob store knows of one blob.
public struct BlobInfo: Hashable, Codable, Sendable {
    public var digest: Digest
    public var size: Int64
    public init(digest: Digest, size: Int64) {
        self.digest = digest
        self.size = size
    }
}

/// Content-addressed storage for artifacts, model files and datasets.
///
/// A blob is named by the SHA-256 of its bytes, so writing the same bytes twice stores them once.
/// Writes are all-or-nothing: a reader never sees a partial blob, even after a crash.
public protocol BlobStore: Sendable {
    /// Stores the file at `url`, streaming it (it may be larger than memory).
    func put(contentsOf url: URL) async throws -> BlobInfo
    /// Stores `data`.
    func put(_ data: Data) async throws -> BlobInfo
    /// A writer that takes a blob piece by piece (an upload as it arrives) in bounded memory; the
    /// blob exists only once the writer commits.
    func writer() async throws -> any BlobWriter
    /// Size of a stored blob, or nil when it is absent.
    func info(_ digest: Digest) async throws -> BlobInfo?
    /// The whole blob in memory; for small blobs.
    func data(_ digest: Digest) async throws -> Data
    /// Writes the blob to `url` (streamed, replaced atomically).
    func export(_ digest: Digest, to url: URL) async throws
}

/// A blob being written: bytes in order, then ``commit()`` (the blob is stored, named by its
/// digest) or ``abort()`` (nothing is). A writer dropped without either leaves no blob.
public protocol BlobWriter: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws
    func commit() async throws -> BlobInfo
    func abort()
}
