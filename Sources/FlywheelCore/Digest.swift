import Crypto
import Foundation

/// A SHA-256 content digest, written `sha256:<64 hex digits>`.
///
/// Blobs are stored and deduplicated by digest; datasets are named by the digest of their bytes.
public struct Digest: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    /// The 64 lowercase hex digits.
    public let hex: String

    /// Parses `sha256:<hex>` or bare hex.
    public init(parsing text: String) throws {
        let hex = text.hasPrefix("sha256:") ? String(text.dropFirst(7)) : text
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else {
            throw FlywheelError.invalidArgument(
                "digest '\(text)' is not valid: expected 'sha256:' followed by 64 lowercase hex digits")
        }
        self.hex = hex
    }

    init(uncheckedHex hex: String) { self.hex = hex }

    /// The digest of `data`.
    public init(of data: some DataProtocol) {
        var h = SHA256()
        h.update(data: data)
        self = flywheelDigest(h)
    }

    public var description: String { "sha256:" + hex }
    public static func < (a: Digest, b: Digest) -> Bool { a.hex < b.hex }

    public init(from decoder: any Decoder) throws {
        try self.init(parsing: try decoder.singleValueContainer().decode(String.self))
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// Incremental SHA-256 over a stream of chunks.
public struct DigestBuilder {
    private var hasher = SHA256()
    public private(set) var byteCount: Int64 = 0
    public init() {}
    public mutating func update(_ chunk: some DataProtocol) {
        hasher.update(data: chunk)
        byteCount += Int64(chunk.count)
    }
    public func finalize() -> Digest { flywheelDigest(hasher) }
}

private func flywheelDigest(_ hasher: SHA256) -> Digest {
        let bytes = hasher.finalize()
        let table = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in bytes {
            out.append(table[Int(b >> 4)])
            out.append(table[Int(b & 0xF)])
        }
        return Digest(uncheckedHex: String(decoding: out, as: UTF8.self))
}

extension Digest {
    /// Streams the file at `url` through SHA-256 in 1 MiB chunks.
    public static func ofFile(at url: URL) throws -> (digest: Digest, size: Int64) {
        let handle: FileHandle
        do { handle = try FileHandle(forReadingFrom: url) } catch {
            throw FlywheelError.notFound("cannot read '\(url.path)': \(error.localizedDescription)")
        }
        defer { try? handle.close() }
        var builder = DigestBuilder()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            builder.update(chunk)
        }
        return (builder.finalize(), builder.byteCount)
    }
}
