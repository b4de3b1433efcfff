import FlywheelCore
import Foundation

/// A `BlobStore` held in memory, for tests.
public actor InMemoryBlobStore: BlobStore {
    private var blobs: [Digest: Data] = [:]

    public init() {}

    public func put(contentsOf url: URL) throws -> BlobInfo {
        guard let d = FileManager.default.contents(atPath: url.path) else {
            throw FlywheelError.notFound("cannot read '\(url.path)': no such file or not readable")
        }
        return put(d)
    }

    public func put(_ data: Data) -> BlobInfo {
        let digest = Digest(of: data)
        blobs[digest] = data
        return BlobInfo(digest: digest, size: Int64(data.count))
    }

    public nonisolated func writer() -> any BlobWriter { Writer(store: self) }

    /// Collects the bytes; the blob is stored on commit.
    final class Writer: BlobWriter {
        let store: InMemoryBlobStore
        var bytes = Data()
        var done = false
        init(store: InMemoryBlobStore) { self.store = store }
        func write(_ chunk: UnsafeRawBufferPointer) throws { bytes.append(contentsOf: chunk) }
        func commit() async throws -> BlobInfo {
            done = true
            return await store.put(bytes)
        }
        func abort() { done = true }
    }

    public func info(_ digest: Digest) -> BlobInfo? { blobs[digest].map { BlobInfo(digest: digest, size: Int64($0.count)) } }

    public func data(_ digest: Digest) throws -> Data {
        guard let d = blobs[digest] else { throw FlywheelError.notFound("blob \(digest) is not in the artifact store") }
        return d
    }

    public func export(_ digest: Digest, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data(digest).write(to: url, options: .atomic)
    }

    /// How many distinct blobs are held (deduplication is observable in tests).
    public var count: Int { blobs.count }
}
