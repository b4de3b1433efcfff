import FlywheelCore
import FlywheelStore
import FlywheelTesting
import Foundation
import Testing

enum BlobBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case memory, file
    var testDescription: String { rawValue }
    func make() throws -> any BlobStore {
        switch self {
        case .memory: InMemoryBlobStore()
        case .file: try FileBlobStore(root: TempDir.make().appendingPathComponent("artifacts"))
        }
    }
}

@Suite struct BlobStoreConformanceTests {
    @Test(arguments: BlobBackend.allCases)
    func aWriterStoresPiecesAsOneBlobAndAnAbortedOneNothing(_ b: BlobBackend) async throws {
        let s = try b.make()
        var whole = Data()
        let w = try await s.writer()
        for i in 0..<50 {
            let piece = Data((0..<(1000 + i * 37)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) })
            whole.append(piece)
            try piece.withUnsafeBytes { try w.write($0) }
        }
        let info = try await w.commit()
        #expect(info.digest == Digest(of: whole) && info.size == Int64(whole.count))
        #expect(try await s.data(info.digest) == whole)
        // The same bytes again are the same blob.
        let again = try await s.writer()
        try whole.withUnsafeBytes { try again.write($0) }
        #expect(try await again.commit() == info)
        // An aborted write stores nothing.
        let dropped = Data("never stored".utf8)
        let aborted = try await s.writer()
        try dropped.withUnsafeBytes { try aborted.write($0) }
        aborted.abort()
        #expect(try await s.info(Digest(of: dropped)) == nil)
        if case .file = b, let file = s as? FileBlobStore {
            let temps = try FileManager.default.contentsOfDirectory(atPath: file.root.appendingPathComponent("tmp").path)
            #expect(temps.isEmpty, "\(temps)")
        }
    }

    @Test(arguments: BlobBackend.allCases)
    func storesByDigestAndReadsBack(_ b: BlobBackend) async throws {
        let s = try b.make()
        let payload = Data("hello, flywheel".utf8)
        let info = try await s.put(payload)
        #expect(info.digest == Digest(of: payload))
        #expect(info.size == Int64(payload.count))
        #expect(try await s.data(info.digest) == payload)
        #expect(try await s.info(info.digest) == info)
        #expect(try await s.info(Digest(of: Data("other".utf8))) == nil)
        let missing = await #expect(throws: FlywheelError.self) { try await s.data(Digest(of: Data("other".utf8))) }
        #expect(missing?.code == .notFound)

        let dir = try TempDir.make()
        let src = dir.appendingPathComponent("in.bin")
        try payload.write(to: src)
        #expect(try await s.put(contentsOf: src) == info)
        let out = dir.appendingPathComponent("sub/out.bin")
        try await s.export(info.digest, to: out)
        #expect(try Data(contentsOf: out) == payload)
        let absent = await #expect(throws: FlywheelError.self) { try await s.put(contentsOf: dir.appendingPathComponent("nope")) }
        #expect(absent?.code == .notFound)
    }
}

@Suite struct FileBlobStoreTests {
    @Test func layoutIsContentAddressedAndDeduplicated() async throws {
        let root = try TempDir.make().appendingPathComponent("artifacts")
        let s = try FileBlobStore(root: root)
        let a = try await s.put(Data("same bytes".utf8))
        let b = try await s.put(Data("same bytes".utf8))
        #expect(a == b)
        let path = root.appendingPathComponent("sha256/\(a.digest.hex.prefix(2))/\(a.digest.hex.dropFirst(2))")
        #expect(FileManager.default.fileExists(atPath: path.path))
        let files = try FileManager.default.subpathsOfDirectory(atPath: root.appendingPathComponent("sha256").path)
            .filter { !$0.hasSuffix("/") && $0.count > 3 }
        #expect(files.count == 1)
        // No temp files are left behind after successful writes.
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("tmp").path).isEmpty)
    }

    /// A file of many chunks hashes the same streamed as whole.
    @Test func streamsLargeFilesChunkByChunk() async throws {
        let dir = try TempDir.make()
        let src = dir.appendingPathComponent("big.bin")
        var bytes = [UInt8](repeating: 0, count: 5 * (1 << 20) + 12345)
        var x: UInt32 = 1
        for i in bytes.indices {
            x = x &* 1_664_525 &+ 1_013_904_223
            bytes[i] = UInt8(truncatingIfNeeded: x >> 24)
        }
        let data = Data(bytes)
        try data.write(to: src)
        let s = try FileBlobStore(root: dir.appendingPathComponent("artifacts"))
        let info = try await s.put(contentsOf: src)
        #expect(info.digest == Digest(of: data))
        #expect(info.size == Int64(data.count))
        #expect(try Digest.ofFile(at: s.url(for: info.digest)).digest == info.digest)
    }
}
