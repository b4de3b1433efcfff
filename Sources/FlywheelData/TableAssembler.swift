import Dispatch
import FlywheelCore
import Foundation

/// The number of usable cores, read once (on Linux it reads cgroup files).
enum ProcessorCount {
    static let active = ProcessInfo.processInfo.activeProcessorCount
}

/// Turns blocks of CSV text into column builders, parsing each block on several threads.
///
/// A block is cut into pieces just after a newline, one per thread. A newline may sit inside a
/// quoted field, so each cut is a guess, checked afterwards: pieces are merged in order, and a
/// piece counts only if the previous one stopped exactly where it began. Otherwise it is parsed
/// again, on this thread, from where the previous one really stopped. Lines count from 1 in each
/// piece and are shifted when the piece is merged, and a piece's error is thrown only once its
/// start is confirmed, so errors and their lines are those of reading the text in order.
struct TableAssembler {
    let source: String
    let types: [String: ColumnType]
    let tuning: CSVReader.Tuning
    /// The size of the whole text when known, to reserve the columns' memory once.
    let expectedBytes: Int?
    private(set) var names: [String]?
    private(set) var builders: [ColumnBuilder] = []
    /// The line on which the next block starts.
    private var line = 1
    private var started = false
    private let tokenizer: CSVTokenizer
    private var pieces: [Piece] = []
    /// Bytes of records parsed so far, and whether the columns have reserved their memory.
    private var bytesParsed = 0
    private var reserved = false

    init(source: String, delimiter: UInt8, types: [String: ColumnType], tuning: CSVReader.Tuning, expectedBytes: Int?) {
        self.source = source
        self.types = types
        self.tuning = tuning
        self.expectedBytes = expectedBytes
        tokenizer = CSVTokenizer(delimiter: delimiter)
    }

    /// Parses the complete records of `block`; returns how many bytes it used.
    mutating func consume(_ block: UnsafeBufferPointer<UInt8>, final: Bool) throws -> Int {
        do {
            var start = 0
            if !started {
                guard let s = CSVReader.textStart(block, final: final) else { return 0 }
                start = s
                started = true
            }
            if names == nil {
                var header: [String]?
                let stop = try tokenizer.tokenize(block, from: start, limit: block.count, final: final, line: line) { record in
                    header = try CSVReader.headerNames(record)
                    return false
                }
                line = stop.line
                guard let header else { return stop.end }
                names = header
                builders = header.map { ColumnBuilder(name: $0, declared: types[$0]) }
                start = stop.end
            }
            let end = try rows(block, from: start, final: final)
            bytesParsed += end - start
            reserveOnce()
            return end
        } catch let e as CSVLineError {
            throw e.named(source)
        }
    }

    /// Rows per byte so far, to size arrays before they are filled.
    private var rowsPerByte: Double? {
        guard bytesParsed > 0, let rows = builders.first?.count, rows > 0 else { return nil }
        return Double(rows) / Double(bytesParsed)
    }

    /// Once the first block has shown how long a record is, reserves room for the whole file.
    private mutating func reserveOnce() {
        guard !reserved, let expectedBytes, let rate = rowsPerByte else { return }
        reserved = true
        let rows = Int(Double(max(0, expectedBytes - bytesParsed)) * rate * 1.05) + 64
        for c in builders.indices { builders[c].reserve(rows) }
    }

    private func pieceCount(_ length: Int) -> Int {
        let threads = tuning.threads ?? ProcessorCount.active
        guard threads > 1 else { return 1 }
        // Two pieces per thread, so a thread slowed down by other work on the machine holds up less.
        return max(1, min(2 * threads, length / max(1, tuning.minimumPieceSize)))
    }

    private mutating func rows(_ block: UnsafeBufferPointer<UInt8>, from start: Int, final: Bool) throws -> Int {
        let n = block.count
        let count = pieceCount(n - start)
        if count <= 1 { return try serialRows(block, from: start, limit: n, final: final).end }
        // Guess where records start: just after the first newline at or after each equal cut.
        var starts = [start]
        for k in 1..<count {
            var j = max(start + (n - start) * k / count, starts[k - 1])
            while j < n, block[j] != UInt8(ascii: "\n") { j += 1 }
            starts.append(min(j + 1, n))
        }
        while pieces.count < count { pieces.append(Piece(delimiter: tokenizer.delimiter, builders: builders)) }
        let rate = rowsPerByte
        for k in 0..<count {
            let piece = pieces[k]
            for c in builders.indices { piece.builders[c].restart(continuing: builders[c]) }
            if let rate {
                let length = (k + 1 < count ? starts[k + 1] : n) - starts[k]
                let rows = Int(Double(length) * rate * 1.1) + 64
                for c in builders.indices { piece.builders[c].reserve(rows) }
            }
        }
        let job = PieceJob(block: block, starts: starts, final: final, fused: tuning.fusedRecords, pieces: Array(pieces[..<count]))
        DispatchQueue.concurrentPerform(iterations: count) { k in job.run(k) }
        // Merge in order, checking each guess.
        var at = start
        for k in 0..<count {
            let limit = k + 1 < count ? starts[k + 1] : n
            let piece = pieces[k]
            if at == starts[k], let stop = piece.stop {
                if let e = piece.error { throw CSVLineError(line: e.line + line - 1, message: e.message) }
                for c in builders.indices { builders[c].append(piece.builders[c]) }
                at = stop.end
                line += stop.line - 1
                if stop.incomplete { return at }
            } else if at < limit {
                // The guess fell inside a quoted field (or a record ran past it): parse from the truth.
                let stop = try serialRows(block, from: at, limit: limit, final: final)
                at = stop.end
                if stop.incomplete { return at }
            }
        }
        return at
    }

    /// Parses records starting before `limit` into `builders`, on this thread.
    private mutating func serialRows(
        _ block: UnsafeBufferPointer<UInt8>, from start: Int, limit: Int, final: Bool
    ) throws -> CSVTokenizer.Stop {
        var columns: [ColumnBuilder] = []
        swap(&columns, &builders)  // uniquely referenced while rows are appended
        defer { swap(&columns, &builders) }
        let stop = try Self.parseRows(
            block, from: start, limit: limit, final: final, line: line, into: &columns, tokenizer: tokenizer,
            fused: tuning.fusedRecords, powers: PowersOfFive.shared)
        line = stop.line
        return stop
    }

    @inline(__always)
    static func add(_ record: CSVRecord, to builders: inout [ColumnBuilder]) throws {
        guard record.count == builders.count else {
            throw CSVLineError(line: record.line, message: "expected \(builders.count) fields as in the header, found \(record.count)")
        }
        try builders.withUnsafeMutableBufferPointer { b in
            for c in 0..<b.count { try b[c].add(record.field(c), quoted: record.isQuoted(c), line: record.line) }
        }
    }
}

/// One thread's share of a block: its tokenizer and columns, kept from block to block so their
/// memory is reused, and where it stopped (lines counted from 1) or its error.
private final class Piece {
    let tokenizer: CSVTokenizer
    var builders: [ColumnBuilder]
    var stop: CSVTokenizer.Stop?
    var error: CSVLineError?

    init(delimiter: UInt8, builders: [ColumnBuilder]) {
        tokenizer = CSVTokenizer(delimiter: delimiter)
        self.builders = builders.map(ColumnBuilder.init(continuing:))
    }

    func run(_ block: UnsafeBufferPointer<UInt8>, from start: Int, limit: Int, final: Bool, fused: Bool) {
        stop = nil
        error = nil
        var columns: [ColumnBuilder] = []
        swap(&columns, &builders)
        defer { swap(&columns, &builders) }
        do {
            stop = try TableAssembler.parseRows(
                block, from: start, limit: limit, final: final, line: 1, into: &columns, tokenizer: tokenizer,
                fused: fused, powers: PowersOfFive.shared)
        } catch {
            // invariant: the tokenizer and the builders throw only CSVLineError.
            self.error = error as? CSVLineError ?? CSVLineError(line: 1, message: "\(error)")
            stop = CSVTokenizer.Stop(end: limit, line: 1, incomplete: false)
        }
    }
}

/// The pieces of one block, for the threads that parse them.
///
/// `@unchecked Sendable`: it lives only during `concurrentPerform`, inside the scope that owns the
/// block; thread `k` uses only `pieces[k]`, and the block is only read.
private struct PieceJob: @unchecked Sendable {
    let block: UnsafeBufferPointer<UInt8>
    let starts: [Int]
    let final: Bool
    let fused: Bool
    let pieces: [Piece]

    func run(_ k: Int) {
        pieces[k].run(block, from: starts[k], limit: k + 1 < starts.count ? starts[k + 1] : block.count, final: final, fused: fused)
    }
}
