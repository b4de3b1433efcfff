import FlywheelCore
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where CSV text comes from. An input can be read more than once (a column that turns out to be
/// text after numbers is read again).
enum CSVInput {
    case data(Data)
    case file(URL)
    /// Pieces pushed by `feed`, the last with `true`; tests use it to cut records anywhere.
    case chunks((_ consume: (Data, Bool) throws -> Void) throws -> Void)

    /// The number of bytes the input holds, when it is known in advance.
    var expectedSize: Int? {
        switch self {
        case .data(let data): data.count
        case .file(let url): (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.intValue
        case .chunks: nil
        }
    }

    /// Calls `body` with blocks of at least `minimum` bytes (but the last), each starting where the
    /// previous call left off: `body` returns how many bytes it used, and the rest (a cut record)
    /// begins the next block. The last call has `final` true and must use everything.
    func forEachBlock(minimum: Int, _ body: (_ block: UnsafeBufferPointer<UInt8>, _ final: Bool) throws -> Int) throws {
        switch self {
        case .data(let data):
            _ = try data.withUnsafeBytes { raw in try body(raw.bindMemory(to: UInt8.self), true) }
        case .file(let url):
            guard let handle = FileHandle(forReadingAtPath: url.path) else {
                throw FlywheelError.notFound("cannot read '\(url.path)': no such file or not readable")
            }
            defer { try? handle.close() }
            let fd = handle.fileDescriptor
            let pending = ByteBuffer()
            var wanted = minimum
            var atEnd = false
            while !atEnd {
                while pending.count < wanted {
                    pending.reserve(wanted - pending.count)
                    let got = pending.appending { space in read(fd, space.baseAddress, space.count) }
                    if got < 0 {
                        if errno == EINTR { continue }
                        throw FlywheelError(.unavailable, "cannot read '\(url.path)': \(String(cString: strerror(errno)))")
                    }
                    if got == 0 {
                        atEnd = true
                        break
                    }
                }
                wanted = try pending.consume(atEnd: atEnd, minimum: minimum, wanted: wanted, body)
            }
        case .chunks(let feed):
            let pending = ByteBuffer()
            var wanted = minimum
            try feed { chunk, final in
                chunk.withUnsafeBytes { raw in pending.append(raw) }
                if pending.count >= wanted || final {
                    wanted = try pending.consume(atEnd: final, minimum: minimum, wanted: wanted, body)
                }
            }
        }
    }
}

/// Growable bytes with a cheap way to drop a used prefix.
final class ByteBuffer {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int = 1 << 16) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    deinit { base.deallocate() }

    /// Makes room for `extra` more bytes.
    func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        var newCapacity = capacity
        while newCapacity < count + extra { newCapacity *= 2 }
        let new = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        new.update(from: base, count: count)
        base.deallocate()
        base = new
        capacity = newCapacity
    }

    func append(_ bytes: UnsafeRawBufferPointer) {
        reserve(bytes.count)
        if let source = bytes.baseAddress {
            UnsafeMutableRawPointer(base + count).copyMemory(from: source, byteCount: bytes.count)
        }
        count += bytes.count
    }

    /// Lets `fill` write into the free space; it returns how many bytes it wrote (or a negative error).
    func appending(_ fill: (UnsafeMutableBufferPointer<UInt8>) -> Int) -> Int {
        let got = fill(UnsafeMutableBufferPointer(start: base + count, count: capacity - count))
        if got > 0 { count += got }
        return got
    }

    /// Passes the bytes to `body` and keeps what it did not use; returns how many bytes to gather
    /// before the next call: twice as many when nothing was used (a record longer than a block).
    func consume(
        atEnd: Bool, minimum: Int, wanted: Int, _ body: (UnsafeBufferPointer<UInt8>, Bool) throws -> Int
    ) throws -> Int {
        let used = try body(UnsafeBufferPointer(start: base, count: count), atEnd)
        if used > 0 {
            memmove(base, base + used, count - used)
            count -= used
        }
        return used == 0 && !atEnd ? max(wanted, count) * 2 : minimum
    }
}
