import FlywheelCore
import Foundation

/// The embedded `BlobStore`: a folder of files named by digest, `sha256/ab/cdef…`.
///
/// A write streams into `tmp/` while hashing, flushes to disk, then renames into place; rename is
/// atomic, so a crash leaves at worst an orphaned temp file, never a partial blob. Bytes already
/// stored are not written twice.
public struct FileBlobStore: BlobStore {
    public let root: URL
    static let chunkSize = 1 << 20

    /// Opens (creating if needed) the blob folder at `root`.
    public init(root: URL) throws {
        self.root = root
        do {
            try FileManager.default.createDirectory(at: root.appendingPathComponent("sha256"), withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: root.appendingPathComponent("tmp"), withIntermediateDirectories: true)
        } catch {
            throw FlywheelError(.unavailable, "cannot create the artifact folder at '\(root.path)': \(error.localizedDescription)")
        }
    }

    /// Where the blob with `digest` lives (whether or not it exists).
    public func url(for digest: Digest) -> URL {
        root.appendingPathComponent("sha256").appendingPathComponent(String(digest.hex.prefix(2)))
            .appendingPathComponent(String(digest.hex.dropFirst(2)))
    }

    private func tempURL() -> URL {
        root.appendingPathComponent("tmp").appendingPathComponent(UUID().uuidString + ".part")
    }

    public func put(contentsOf source: URL) async throws -> BlobInfo {
        guard let input = try? FileHandle(forReadingFrom: source) else {
            throw FlywheelError.notFound("cannot read '\(source.path)': no such file or not readable")
        }
        defer { try? input.close() }
        return try commit { output in
            var builder = DigestBuilder()
            while let chunk = try input.read(upToCount: Self.chunkSize), !chunk.isEmpty {
                builder.update(chunk)
                try output.write(contentsOf: chunk)
            }
            return builder
        }
    }

    public func put(_ data: Data) async throws -> BlobInfo {
        try commit { output in
            var builder = DigestBuilder()
            builder.update(data)
            try output.write(contentsOf: data)
            return builder
        }
    }

    public func writer() async throws -> any BlobWriter {
        let tmp = tempURL()
        guard FileManager.default.createFile(atPath: tmp.path, contents: nil) else {
            throw FlywheelError(.unavailable, "cannot write in the artifact folder '\(root.path)'")
        }
        return Writer(store: self, tmp: tmp, output: try FileHandle(forWritingTo: tmp))
    }

    /// Streams into a temp file while hashing; ``commit()`` syncs it and renames it into place.
    final class Writer: BlobWriter {
        let store: FileBlobStore
        let tmp: URL
        let output: FileHandle
        var builder = DigestBuilder()
        var done = false

        init(store: FileBlobStore, tmp: URL, output: FileHandle) {
            self.store = store
            self.tmp = tmp
            self.output = output
        }

        deinit { abort() }

        func write(_ bytes: UnsafeRawBufferPointer) throws {
            builder.update(bytes)
            do { try output.write(contentsOf: bytes) } catch {
                throw FlywheelError(.unavailable, "writing a blob failed: \(error.localizedDescription)", underlying: error)
            }
        }

        func commit() async throws -> BlobInfo {
            do {
                try output.synchronize()
                try output.close()
            } catch {
                abort()
                throw FlywheelError(.unavailable, "writing a blob failed: \(error.localizedDescription)", underlying: error)
            }
            done = true
            defer { try? FileManager.default.removeItem(at: tmp) }  // gone already once renamed
            return try store.place(tmp, builder)
        }

        func abort() {
            guard !done else { return }
            done = true
            try? output.close()
            try? FileManager.default.removeItem(at: tmp)
        }
    }

    /// Writes through `body` into a temp file, syncs it, and moves it to its digest's place.
    private func commit(_ body: (FileHandle) throws -> DigestBuilder) throws -> BlobInfo {
        let tmp = tempURL()
        guard FileManager.default.createFile(atPath: tmp.path, contents: nil) else {
            throw FlywheelError(.unavailable, "cannot write in the artifact folder '\(root.path)'")
        }
        var placed = false
        defer { if !placed { try? FileManager.default.removeItem(at: tmp) } }
        let output = try FileHandle(forWritingTo: tmp)
        let builder: DigestBuilder
        do {
            builder = try body(output)
            try output.synchronize()
            try output.close()
        } catch {
            try? output.close()
            throw FlywheelError(.unavailable, "writing a blob failed: \(error.localizedDescription)", underlying: error)
        }
        let info = try place(tmp, builder)
        placed = true
        return info
    }

    /// Moves a complete, synced temp file to its digest's place (or drops it when that blob is
    /// there already); the caller removes the temp file when this throws.
    func place(_ tmp: URL, _ builder: DigestBuilder) throws -> BlobInfo {
        let digest = builder.finalize()
        let dest = url(for: digest)
        if FileManager.default.fileExists(atPath: dest.path) {
            try? FileManager.default.removeItem(at: tmp)
            return BlobInfo(digest: digest, size: builder.byteCount)  // deduplicated
        }
        try FileManager.default.createDirectory(at: dest.deletingLastPathComponent(), withIntermediateDirectories: true)
        // rename(2) atomically replaces; a concurrent writer of the same bytes is harmless.
        guard rename(tmp.path, dest.path) == 0 else {
            throw FlywheelError(.unavailable, "cannot move a blob into place at '\(dest.path)' (errno \(errno))")
        }
        return BlobInfo(digest: digest, size: builder.byteCount)
    }

    public func info(_ digest: Digest) async throws -> BlobInfo? {
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: url(for: digest).path),
            let size = attrs[.size] as? NSNumber
        else { return nil }
        return BlobInfo(digest: digest, size: size.int64Value)
    }

    public func data(_ digest: Digest) async throws -> Data {
        guard let d = FileManager.default.contents(atPath: url(for: digest).path) else {
            throw FlywheelError.notFound("blob \(digest) is not in the artifact store")
        }
        return d
    }

    public func export(_ digest: Digest, to destination: URL) async throws {
        let src = url(for: digest)
        guard let input = try? FileHandle(forReadingFrom: src) else {
            throw FlywheelError.notFound("blob \(digest) is not in the artifact store")
        }
        defer { try? input.close() }
        let dir = destination.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let tmp = dir.appendingPathComponent(".\(destination.lastPathComponent).\(UUID().uuidString).part")
        guard FileManager.default.createFile(atPath: tmp.path, contents: nil), let output = try? FileHandle(forWritingTo: tmp) else {
            throw FlywheelError.invalidArgument("cannot write to '\(destination.path)'")
        }
        do {
            while let chunk = try input.read(upToCount: Self.chunkSize), !chunk.isEmpty {
                try output.write(contentsOf: chunk)
            }
            try output.close()
        } catch {
            try? output.close()
            try? FileManager.default.removeItem(at: tmp)
            throw FlywheelError(.unavailable, "exporting blob \(digest) failed: \(error.localizedDescription)", underlying: error)
        }
        guard rename(tmp.path, destination.path) == 0 else {
            try? FileManager.default.removeItem(at: tmp)
            throw FlywheelError.invalidArgument("cannot write to '\(destination.path)' (errno \(errno))")
        }
    }

    /// Removes temp files older than `age` left by writers that crashed.
    public func sweepTemporaries(olderThan age: TimeInterval = 3600) {
        let dir = root.appendingPathComponent("tmp")
        let cutoff = Date().addingTimeInterval(-age)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [] {
            let u = dir.appendingPathComponent(name)
            if let m = (try? FileManager.default.attributesOfItem(atPath: u.path))?[.modificationDate] as? Date, m < cutoff {
                try? FileManager.default.removeItem(at: u)
            }
        }
    }
}
