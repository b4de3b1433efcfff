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

    static func open(_ url: URL) throws -> FileHandle {
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw FlywheelError.notFound("cannot read '\(url.path)': no such file or not readable")
        }
        return handle
    }

    /// Calls `body` with blocks of at least `minimum` bytes (but the last), each starting where the
    /// previous call left off: `body` returns how many bytes it used, and the rest (a cut record)
    /// begins the next block. The last call has `final` true and must use everything.
    func forEachBlock(minimum: Int, _ body: (_ block: UnsafeBufferPointer<UInt8>, _ final: Bool) throws -> Int) throws {
        switch self {
        case .data(let data):
            _ = try data.withUnsafeBytes { raw in try body(raw.bindMemory(to: UInt8.self), true) }
        case .file(let url):
            let handle = try Self.open(url)
            defer { try? handle.close() }
            try Self.stream(fd: handle.fileDescriptor, path: url.path, minimum: minimum, body)
        case .chunks(let feed):
            let pending = ByteBuffer()
            var wanted = minimum
            try feed { chunk, final in
                chunk.withUnsafeBytes { raw in pending.append(raw) }
                guard pending.count >= wanted || final else { return }
                let used = try body(pending.bytes, final)
                pending.dropFirst(used)
                // Nothing used: a record longer than a block; wait for twice as much.
                wanted = used == 0 && !final ? max(wanted, pending.count) * 2 : minimum
            }
        }
    }

    /// Reads `fd` from where it stands to its end in blocks, as ``forEachBlock(minimum:_:)``.
    static func stream(
        fd: Int32, path: String, minimum: Int, _ body: (_ block: UnsafeBufferPointer<UInt8>, _ final: Bool) throws -> Int
    ) throws {
        let pending = ByteBuffer()
        var wanted = minimum
        var atEnd = false
        while !atEnd {
            while pending.count < wanted {
                let got = try pending.append(from: fd, path: path, count: wanted - pending.count)
                if got == 0 {
                    atEnd = true
                    break
                }
            }
            let used = try body(pending.bytes, atEnd)
            pending.dropFirst(used)
            wanted = used == 0 && !atEnd ? max(wanted, pending.count) * 2 : minimum
        }
    }
}

/// Text that can be read at any offset: a regular file (with `pread`) or bytes in memory.
struct CSVRandomAccess {
    enum Storage {
        case memory(UnsafeBufferPointer<UInt8>)
        case file(fd: Int32, path: String)
    }

    let storage: Storage
    let size: Int

    /// The regular file open as `fd`, or nil for a pipe or device (those are read as a stream).
    static func file(fd: Int32, path: String) -> CSVRandomAccess? {
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        return CSVRandomAccess(storage: .file(fd: fd, path: path), size: Int(info.st_size))
    }

    static func memory(_ bytes: UnsafeBufferPointer<UInt8>) -> CSVRandomAccess {
        CSVRandomAccess(storage: .memory(bytes), size: bytes.count)
    }

    /// The `count` bytes at `offset` (fewer at the end): a view of memory, or read into `buffer`.
    func bytes(at offset: Int, count: Int, buffer: ByteBuffer) throws -> UnsafeBufferPointer<UInt8> {
        let count = max(0, min(count, size - offset))
        switch storage {
        case .memory(let all):
            return UnsafeBufferPointer(rebasing: all[offset..<(offset + count)])
        case .file(let fd, let path):
            try buffer.fill(from: fd, path: path, offset: offset, count: count)
            return buffer.bytes
        }
    }

    /// The offset just after the first LF at or after `offset`, or `size` when there is none.
    func afterNewline(from offset: Int, buffer: ByteBuffer) throws -> Int {
        var at = offset
        while at < size {
            let window = try bytes(at: at, count: 1 << 16, buffer: buffer)
            guard let base = window.baseAddress else { break }
            if let hit = memchr(base, 10, window.count) {
                return at + (UnsafeRawPointer(hit) - UnsafeRawPointer(base)) + 1
            }
            at += window.count
        }
        return size
    }
}

/// Growable bytes in `base[start..<end]`, with a cheap way to drop a used prefix.
final class ByteBuffer {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var start = 0
    private var end = 0

    init(capacity: Int = 1 << 16) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    deinit { base.deallocate() }

    var count: Int { end - start }
    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base + start, count: end - start) }

    /// Makes room for `extra` more bytes at the end.
    private func reserve(_ extra: Int) {
        guard end + extra > capacity else { return }
        if start > 0 {  // move the bytes to the front first
            memmove(base, base + start, end - start)
            end -= start
            start = 0
            if end + extra <= capacity { return }
        }
        var newCapacity = capacity
        while newCapacity < end + extra { newCapacity *= 2 }
        let new = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        new.update(from: base, count: end)
        base.deallocate()
        base = new
        capacity = newCapacity
    }

    func append(_ bytes: UnsafeRawBufferPointer) {
        reserve(bytes.count)
        if let source = bytes.baseAddress {
            UnsafeMutableRawPointer(base + end).copyMemory(from: source, byteCount: bytes.count)
        }
        end += bytes.count
    }

    func dropFirst(_ k: Int) {
        start += k
        if start == end {
            start = 0
            end = 0
        }
    }

    /// Appends up to `count` bytes read from `fd` where it stands; returns how many (0 at its end).
    func append(from fd: Int32, path: String, count: Int) throws -> Int {
        reserve(count)
        while true {
            let got = read(fd, base + end, count)
            if got < 0 {
                if errno == EINTR { continue }
                throw Self.readError(path)
            }
            end += got
            return got
        }
    }

    /// Replaces the contents with the `count` bytes of `fd` at `offset`.
    func fill(from fd: Int32, path: String, offset: Int, count: Int) throws {
        start = 0
        end = 0
        reserve(count)
        while end < count {
            let got = pread(fd, base + end, count - end, off_t(offset + end))
            if got < 0 {
                if errno == EINTR { continue }
                throw Self.readError(path)
            }
            if got == 0 { throw FlywheelError(.unavailable, "'\(path)' became shorter while it was read") }
            end += got
        }
    }

    static func readError(_ path: String) -> FlywheelError {
        FlywheelError(.unavailable, "cannot read '\(path)': \(String(cString: strerror(errno)))")
    }
}
