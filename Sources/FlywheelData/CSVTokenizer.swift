import FlywheelCore

/// An RFC 4180 tokenizer over bytes that arrive in chunks.
///
/// Quoted fields may hold commas, doubled quotes and newlines; records end at LF or CRLF; a UTF-8
/// byte-order mark at the start is skipped; blank lines are skipped. A record cut by a chunk
/// boundary is carried over to the next chunk. Errors name the line on which the record starts.
struct CSVTokenizer {
    /// Field bytes of the current record, unescaped, back to back.
    private(set) var bytes: [UInt8] = []
    /// End offset in `bytes` of each field of the current record.
    private(set) var ends: [Int] = []
    /// Whether each field of the current record was quoted (a quoted `"NA"` is text, not missing).
    private(set) var quoted: [Bool] = []
    /// The 1-based line on which the current record starts.
    private(set) var recordLine = 1
    private var line = 1
    private var carry: [UInt8] = []
    private var started = false
    let delimiter: UInt8
    let source: String

    init(delimiter: UInt8 = UInt8(ascii: ","), source: String) {
        self.delimiter = delimiter
        self.source = source
    }

    var fieldCount: Int { ends.count }

    /// The bytes of field `i` of the current record.
    func field(_ i: Int) -> ArraySlice<UInt8> { bytes[(i == 0 ? 0 : ends[i - 1])..<ends[i]] }

    func error(_ message: String, line: Int? = nil) -> FlywheelError {
        .invalidArgument("\(source) line \(line ?? recordLine): \(message)")
    }

    /// Feeds one chunk; calls `record` for every complete record. Pass `final: true` with the last
    /// chunk (it may be empty) so a record without a trailing newline is finished.
    mutating func feed(_ chunk: some Collection<UInt8>, final: Bool, record: (inout CSVTokenizer) throws -> Void) throws {
        var buffer: [UInt8]
        if carry.isEmpty {
            buffer = Array(chunk)
        } else {
            buffer = carry
            buffer.append(contentsOf: chunk)
            carry = []
        }
        var i = 0
        if !started {
            if buffer.count < 3 && !final {
                carry = buffer
                return
            }
            if buffer.count >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF { i = 3 }
            started = true
        }
        let n = buffer.count
        let quote = UInt8(ascii: "\""), lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
        try buffer.withUnsafeBufferPointer { buf in
            recordLoop: while i < n {
                let recordStart = i
                let startLine = line
                bytes.removeAll(keepingCapacity: true)
                ends.removeAll(keepingCapacity: true)
                quoted.removeAll(keepingCapacity: true)
                // Skip blank lines.
                if buf[i] == lf { line += 1; i += 1; continue recordLoop }
                if buf[i] == cr, i + 1 < n, buf[i + 1] == lf { line += 1; i += 2; continue recordLoop }
                if buf[i] == cr, i + 1 == n, !final { break recordLoop }
                recordLine = startLine
                var linesInRecord = 0
                fieldLoop: while true {
                    let isQuoted = i < n && buf[i] == quote
                    if isQuoted {
                        i += 1
                        while true {
                            guard i < n else {
                                if final { throw error("unterminated quoted field (a '\"' is never closed)") }
                                i = recordStart
                                line = startLine
                                break recordLoop
                            }
                            let b = buf[i]
                            if b == quote {
                                if i + 1 < n, buf[i + 1] == quote {
                                    bytes.append(quote)
                                    i += 2
                                    continue
                                }
                                if i + 1 == n, !final {  // can't tell yet whether the quote is doubled
                                    i = recordStart
                                    line = startLine
                                    break recordLoop
                                }
                                i += 1
                                break
                            }
                            if b == lf { linesInRecord += 1 }
                            bytes.append(b)
                            i += 1
                        }
                        // After a closing quote: a delimiter, the end of the record, or an error.
                        if i < n, buf[i] != delimiter, buf[i] != lf, !(buf[i] == cr && i + 1 < n && buf[i + 1] == lf) {
                            if buf[i] == cr, i + 1 == n, !final {
                                i = recordStart
                                line = startLine
                                break recordLoop
                            }
                            throw error(
                                "unexpected character '\(Character(Unicode.Scalar(buf[i])))' after a closing quote "
                                    + "(field \(ends.count + 1)); quotes inside a quoted field must be doubled",
                                line: startLine + linesInRecord)
                        }
                    } else {
                        let fieldStart = i
                        while i < n, buf[i] != delimiter, buf[i] != lf {
                            if buf[i] == cr, i + 1 < n, buf[i + 1] == lf { break }
                            if buf[i] == cr, i + 1 == n, !final { break }
                            i += 1
                        }
                        // One copy of the whole unquoted field rather than byte by byte.
                        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buf[fieldStart..<i]))
                        if i == n, !final {
                            i = recordStart
                            line = startLine
                            break recordLoop
                        }
                        if i < n, buf[i] == cr, i + 1 == n, !final {
                            i = recordStart
                            line = startLine
                            break recordLoop
                        }
                    }
                    ends.append(bytes.count)
                    quoted.append(isQuoted)
                    if i < n, buf[i] == delimiter {
                        i += 1
                        if i == n, !final {
                            i = recordStart
                            line = startLine
                            break recordLoop
                        }
                        continue fieldLoop
                    }
                    // End of record: LF, CRLF or the end of the final chunk.
                    if i < n, buf[i] == cr { i += 1 }
                    if i < n, buf[i] == lf { i += 1; linesInRecord += 1 }
                    line = startLine + linesInRecord
                    try record(&self)
                    continue recordLoop
                }
            }
        }
        if i < n { carry = Array(buffer[i...]) }
    }
}
