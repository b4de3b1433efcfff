import FlywheelCore

/// An RFC 4180 tokenizer over a buffer of bytes.
///
/// Quoted fields may hold commas, doubled quotes and newlines; records end at LF or CRLF; blank
/// lines are skipped. Fields are not copied: a record hands out views into the buffer, and only a
/// quoted field with doubled quotes is unescaped, into a scratch buffer. A record that the end of
/// the buffer cuts is left for the caller to carry into the next buffer, unless the buffer is the
/// last one. Errors name the line on which the record starts.
///
/// A tokenizer can start at any record boundary: lines count from the `line` it is given, so
/// several tokenizers can read consecutive parts of one text in parallel.
final class CSVTokenizer {
    let delimiter: UInt8
    private var store = FieldStore()

    init(delimiter: UInt8) {
        self.delimiter = delimiter
    }

    deinit { store.deallocate() }

    /// The high bit set in each zero byte of `y`. Bits above the lowest zero byte may be set
    /// wrongly (a borrow), but the lowest set bit is always a true zero byte.
    @inline(__always)
    static func zeroBytes(_ y: UInt64) -> UInt64 {
        (y &- 0x0101_0101_0101_0101) & ~y & 0x8080_8080_8080_8080
    }

    /// Where a call to ``tokenize(_:from:limit:final:line:record:)`` stopped.
    struct Stop {
        /// The offset of the next record, or of the cut record when `incomplete`.
        var end: Int
        /// The line on which `end` lies.
        var line: Int
        /// The buffer ended inside a record (never when `final`).
        var incomplete: Bool
    }

    /// Calls `record` for each record that starts at or after `start` and before `limit`; stops early
    /// when `record` returns false. Pass `final` when nothing follows the buffer, so a last record
    /// without a newline is complete. `line` is the line on which `start` lies.
    func tokenize(
        _ buffer: UnsafeBufferPointer<UInt8>, from start: Int, limit: Int, final: Bool, line firstLine: Int,
        record: (CSVRecord) throws -> Bool
    ) throws -> Stop {
        guard let p = buffer.baseAddress, start < limit else { return Stop(end: start, line: firstLine, incomplete: false) }
        let n = buffer.count
        let quote = UInt8(ascii: "\""), lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r"), delimiter = delimiter
        let delimiters = UInt64(delimiter) &* 0x0101_0101_0101_0101
        let lfs = UInt64(lf) &* 0x0101_0101_0101_0101, crs = UInt64(cr) &* 0x0101_0101_0101_0101
        var i = start
        var line = firstLine
        // A local copy: the loop must not pay for access checks on the class's properties.
        var store = store
        defer { self.store = store }
        recordLoop: while i < limit {
            let recordStart = i
            let startLine = line
            // Skip blank lines.
            let b0 = p[i]
            if b0 == lf {
                line += 1
                i += 1
                continue
            }
            if b0 == cr {
                if i + 1 < n {
                    if p[i + 1] == lf {
                        line += 1
                        i += 2
                        continue
                    }
                } else if !final {
                    return Stop(end: recordStart, line: startLine, incomplete: true)
                }
            }
            var count = 0
            var scratchUsed = 0
            var linesInRecord = 0
            while true {
                if count == store.fieldCapacity { store.growFields() }
                if i < n, p[i] == quote {
                    i += 1
                    let contentStart = i
                    var doubled = false
                    while true {
                        guard i < n else {
                            if final {
                                throw CSVLineError(line: startLine, message: "unterminated quoted field (a '\"' is never closed)")
                            }
                            return Stop(end: recordStart, line: startLine, incomplete: true)
                        }
                        let b = p[i]
                        if b == quote {
                            if i + 1 < n {
                                if p[i + 1] == quote {
                                    doubled = true
                                    i += 2
                                    continue
                                }
                            } else if !final {  // can't tell yet whether the quote is doubled
                                return Stop(end: recordStart, line: startLine, incomplete: true)
                            }
                            break
                        }
                        if b == lf { linesInRecord += 1 }
                        i += 1
                    }
                    let contentEnd = i
                    i += 1
                    // After a closing quote: a delimiter, the end of the record, or an error.
                    if i < n, p[i] != delimiter, p[i] != lf {
                        if p[i] == cr, i + 1 == n, !final { return Stop(end: recordStart, line: startLine, incomplete: true) }
                        if !(p[i] == cr && i + 1 < n && p[i + 1] == lf) {
                            throw CSVLineError(
                                line: startLine + linesInRecord,
                                message: "unexpected character '\(Character(Unicode.Scalar(p[i])))' after a closing quote "
                                    + "(field \(count + 1)); quotes inside a quoted field must be doubled")
                        }
                    }
                    if doubled {
                        let length = contentEnd - contentStart
                        if scratchUsed + length > store.scratchCapacity { store.growScratch(to: scratchUsed + length) }
                        var j = contentStart, o = scratchUsed
                        while j < contentEnd {
                            store.scratch[o] = p[j]
                            o += 1
                            j += p[j] == quote ? 2 : 1
                        }
                        store.starts[count] = scratchUsed
                        store.ends[count] = o
                        store.flags[count] = 3
                        scratchUsed = o
                    } else {
                        store.starts[count] = contentStart
                        store.ends[count] = contentEnd
                        store.flags[count] = 1
                    }
                } else {
                    let fieldStart = i
                    while i < n {
                        if i + 8 <= n {
                            // Eight bytes at a time up to the first delimiter, LF or CR.
                            let v = UInt64(littleEndian: UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
                            let hits = Self.zeroBytes(v ^ delimiters) | Self.zeroBytes(v ^ lfs) | Self.zeroBytes(v ^ crs)
                            if hits == 0 {
                                i += 8
                                continue
                            }
                            i += hits.trailingZeroBitCount >> 3
                        }
                        let b = p[i]
                        if b == delimiter || b == lf { break }
                        if b == cr {
                            if i + 1 < n {
                                if p[i + 1] == lf { break }
                            } else if !final {
                                return Stop(end: recordStart, line: startLine, incomplete: true)
                            }
                        }
                        i += 1
                    }
                    if i == n, !final { return Stop(end: recordStart, line: startLine, incomplete: true) }
                    store.starts[count] = fieldStart
                    store.ends[count] = i
                    store.flags[count] = 0
                }
                count += 1
                if i < n, p[i] == delimiter {
                    i += 1
                    if i == n, !final { return Stop(end: recordStart, line: startLine, incomplete: true) }
                    continue
                }
                // End of record: LF, CRLF or the end of the final buffer.
                if i < n, p[i] == cr { i += 1 }
                if i < n, p[i] == lf {
                    i += 1
                    linesInRecord += 1
                }
                line = startLine + linesInRecord
                let view = CSVRecord(
                    input: p, scratch: store.scratch, starts: store.starts, ends: store.ends, flags: store.flags, count: count,
                    line: startLine)
                if try !record(view) { return Stop(end: i, line: line, incomplete: false) }
                continue recordLoop
            }
        }
        return Stop(end: i, line: line, incomplete: false)
    }
}

/// Field offsets and unescaped bytes of the current record, in memory the tokenizer owns.
private struct FieldStore {
    var fieldCapacity = 64
    var starts = UnsafeMutablePointer<Int>.allocate(capacity: 64)
    var ends = UnsafeMutablePointer<Int>.allocate(capacity: 64)
    /// Bit 0: the field was quoted; bit 1: its bytes are in `scratch`.
    var flags = UnsafeMutablePointer<UInt8>.allocate(capacity: 64)
    var scratchCapacity = 256
    var scratch = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)

    mutating func growFields() {
        let capacity = fieldCapacity * 2
        starts = Self.grown(starts, from: fieldCapacity, to: capacity)
        ends = Self.grown(ends, from: fieldCapacity, to: capacity)
        flags = Self.grown(flags, from: fieldCapacity, to: capacity)
        fieldCapacity = capacity
    }

    mutating func growScratch(to needed: Int) {
        var capacity = scratchCapacity
        while capacity < needed { capacity *= 2 }
        scratch = Self.grown(scratch, from: scratchCapacity, to: capacity)
        scratchCapacity = capacity
    }

    static func grown<T>(_ old: UnsafeMutablePointer<T>, from: Int, to: Int) -> UnsafeMutablePointer<T> {
        let new = UnsafeMutablePointer<T>.allocate(capacity: to)
        new.moveInitialize(from: old, count: from)
        old.deallocate()
        return new
    }

    func deallocate() {
        starts.deallocate()
        ends.deallocate()
        flags.deallocate()
        scratch.deallocate()
    }
}

/// One record's fields, as views that are valid only during the call that receives the record.
struct CSVRecord {
    fileprivate let input: UnsafePointer<UInt8>
    fileprivate let scratch: UnsafePointer<UInt8>
    fileprivate let starts: UnsafePointer<Int>
    fileprivate let ends: UnsafePointer<Int>
    fileprivate let flags: UnsafePointer<UInt8>
    let count: Int
    /// The line on which the record starts.
    let line: Int

    fileprivate init(
        input: UnsafePointer<UInt8>, scratch: UnsafeMutablePointer<UInt8>, starts: UnsafeMutablePointer<Int>,
        ends: UnsafeMutablePointer<Int>, flags: UnsafeMutablePointer<UInt8>, count: Int, line: Int
    ) {
        self.input = input
        self.scratch = UnsafePointer(scratch)
        self.starts = UnsafePointer(starts)
        self.ends = UnsafePointer(ends)
        self.flags = UnsafePointer(flags)
        self.count = count
        self.line = line
    }

    /// The bytes of field `i`, unescaped.
    @inline(__always)
    func field(_ i: Int) -> UnsafeBufferPointer<UInt8> {
        let base = flags[i] & 2 == 0 ? input : scratch
        return UnsafeBufferPointer(start: base + starts[i], count: ends[i] - starts[i])
    }

    /// Whether field `i` was quoted (a quoted `"NA"` is text, not missing).
    @inline(__always)
    func isQuoted(_ i: Int) -> Bool { flags[i] & 1 != 0 }
}

/// A malformed record or value: the line it is on and what is wrong, before the reader names the source.
struct CSVLineError: Error {
    var line: Int
    var message: String

    func named(_ source: String, linesBefore: Int = 0) -> FlywheelError {
        .invalidArgument("\(source) line \(line + linesBefore): \(message)")
    }
}
