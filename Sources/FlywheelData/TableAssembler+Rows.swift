extension TableAssembler {
    /// Rows gathered per numeric column before they are appended in one copy.
    static let batchRows = 256

    /// Parses the records that start at or after `start` and before `limit` into `builders`.
    ///
    /// A record of unquoted fields takes a fused path: a numeric column's number is parsed where it
    /// lies, the parse stopping at the delimiter, so its bytes are read once, and numbers gather
    /// column by column in batches; other fields are found eight bytes at a time and go to their
    /// builders once the whole record has been seen. Anything else (a quote, a blank line, a value
    /// in a numeric column that is not a plain number, a wrong field count, the end of the buffer)
    /// sends the record to the tokenizer, which decides every case and every error as it always
    /// has. After a miss the next records go to the tokenizer too, more of them the more misses
    /// come in a row, so text full of quotes does not pay for the fused path.
    static func parseRows(
        _ block: UnsafeBufferPointer<UInt8>, from start: Int, limit: Int, final: Bool, line firstLine: Int,
        into builders: inout [ColumnBuilder], tokenizer: CSVTokenizer, fused: Bool, powers: PowersOfFive
    ) throws -> CSVTokenizer.Stop {
        guard let p = block.baseAddress, start < limit else { return CSVTokenizer.Stop(end: start, line: firstLine, incomplete: false) }
        let n = block.count
        let columns = builders.count
        let delimiter = tokenizer.delimiter
        let quote = UInt8(ascii: "\""), lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
        let delimiters = UInt64(delimiter) &* 0x0101_0101_0101_0101
        let lfs = UInt64(lf) &* 0x0101_0101_0101_0101, crs = UInt64(cr) &* 0x0101_0101_0101_0101

        let batch = UnsafeMutablePointer<Double>.allocate(capacity: columns * batchRows)
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: columns)
        counts.initialize(repeating: 0, count: columns)
        let fieldStarts = UnsafeMutablePointer<Int>.allocate(capacity: columns)
        let fieldEnds = UnsafeMutablePointer<Int>.allocate(capacity: columns)
        let numeric = UnsafeMutablePointer<Bool>.allocate(capacity: columns)
        defer {
            batch.deallocate()
            counts.deallocate()
            fieldStarts.deallocate()
            fieldEnds.deallocate()
            numeric.deallocate()
        }
        func refreshKinds() {
            for c in 0..<columns { numeric[c] = builders[c].kind == .numeric }
        }
        func flush() {
            for c in 0..<columns where counts[c] > 0 {
                builders[c].appendNumbers(UnsafeBufferPointer(start: batch + c * batchRows, count: counts[c]))
                counts[c] = 0
            }
        }
        refreshKinds()
        var i = start
        var line = firstLine
        var rows = 0  // records in the batch
        var slowRun = 0  // records still to give to the tokenizer
        var slowLength = 1
        var fusedSinceMiss = 0

        while i < limit {
            if !fused {
                slowRun = Int.max
            } else if slowRun == 0 {
                var j = i
                var whole = p[i] != lf && p[i] != cr  // a blank line is the tokenizer's
                var c = 0
                while whole, c < columns {
                    guard j < n, p[j] != quote else {
                        whole = false
                        break
                    }
                    var end = j
                    if numeric[c] {
                        let b = p[j]
                        var value = Double.nan  // an empty field is missing
                        if b != delimiter, b != lf, b != cr {
                            guard let (v, e) = DecimalParser.prefix(p, from: j, end: n, powers), e - j < 63 else {
                                whole = false
                                break
                            }
                            value = v
                            end = e
                        }
                        batch[c * batchRows + counts[c]] = value
                    } else {
                        // Up to the delimiter, LF or CRLF; a lone CR is data, as in the tokenizer.
                        while end < n {
                            if end + 8 <= n {
                                let v = UInt64(littleEndian: UnsafeRawPointer(p + end).loadUnaligned(as: UInt64.self))
                                let hits = CSVTokenizer.zeroBytes(v ^ delimiters) | CSVTokenizer.zeroBytes(v ^ lfs)
                                    | CSVTokenizer.zeroBytes(v ^ crs)
                                if hits == 0 {
                                    end += 8
                                    continue
                                }
                                end += hits.trailingZeroBitCount >> 3
                            }
                            let b = p[end]
                            if b == delimiter || b == lf || (b == cr && end + 1 < n && p[end + 1] == lf) { break }
                            end += 1
                        }
                        fieldStarts[c] = j
                        fieldEnds[c] = end
                    }
                    guard end < n else {
                        whole = false
                        break
                    }
                    let t = p[end]
                    if c + 1 < columns {
                        guard t == delimiter else {
                            whole = false
                            break
                        }
                        j = end + 1
                    } else if t == lf {
                        j = end + 1
                    } else if t == cr, end + 1 < n, p[end + 1] == lf {
                        j = end + 2
                    } else {
                        whole = false
                    }
                    c += 1
                }
                if whole {
                    var kindsChanged = false
                    for c in 0..<columns {
                        if numeric[c] {
                            counts[c] += 1
                        } else {
                            try builders[c].add(
                                UnsafeBufferPointer(start: p + fieldStarts[c], count: fieldEnds[c] - fieldStarts[c]), quoted: false,
                                line: line)
                            if builders[c].kind == .numeric { kindsChanged = true }
                        }
                    }
                    line += 1
                    i = j
                    rows += 1
                    fusedSinceMiss += 1
                    if rows == batchRows || kindsChanged {
                        flush()
                        rows = 0
                        if kindsChanged { refreshKinds() }
                    }
                    continue
                }
                slowLength = fusedSinceMiss == 0 ? min(slowLength * 2, 4_096) : 1
                slowRun = slowLength
                fusedSinceMiss = 0
            }
            flush()
            rows = 0
            var taken = 0
            let run = slowRun
            let stop = try tokenizer.tokenize(block, from: i, limit: limit, final: final, line: line) { record in
                try add(record, to: &builders)
                taken += 1
                return taken < run
            }
            slowRun = 0
            i = stop.end
            line = stop.line
            if stop.incomplete { return stop }
            refreshKinds()
        }
        flush()
        return CSVTokenizer.Stop(end: i, line: line, incomplete: false)
    }
}
