import Dispatch
import FlywheelCore
import Foundation

/// The number of usable cores, read once (on Linux it reads cgroup files).
enum ProcessorCount {
    static let active = ProcessInfo.processInfo.activeProcessorCount
}

extension TableAssembler {
    /// Reads the header and every record of text that can be read at any offset, on every core.
    ///
    /// The records are cut into pieces of up to 1 MiB at equal offsets, each moved to just after the
    /// next newline. Threads take pieces, each reading its own bytes (`pread`, or a view of memory).
    /// One thread parses pieces in order from the front straight into the columns; the others
    /// take pieces from the back and parse each into its own columns with lines counted from 1. A
    /// newline may sit inside a quoted field, so the start of such a piece is a guess, checked when
    /// the merge reaches it: the piece counts only if the records before it stopped exactly where
    /// it began, and is otherwise parsed again from where they really stopped. Its error is thrown
    /// only then, with its line shifted, so errors and lines are those of reading in order.
    /// Nothing waits for every thread but the end, so a thread that the machine's other work
    /// slows down holds up little (see `Assembly`).
    mutating func read(_ text: CSVRandomAccess) throws {
        do {
            try readRecords(text)
        } catch let e as CSVLineError {
            throw e.named(source)
        }
    }

    private mutating func readRecords(_ text: CSVRandomAccess) throws {
        let buffer = ByteBuffer()
        // The header, from a window that grows until it holds the whole header record.
        var window = 1 << 16
        var start = 0
        var sample = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
        while true {
            sample = try text.bytes(at: 0, count: window, buffer: buffer)
            var end = 0
            if let s = try header(sample, final: sample.count == text.size, end: &end) {
                start = s
                break
            }
            if sample.count == text.size { return }  // no header: the caller reports an empty file
            resetHeader()
            window *= 2
        }
        let remaining = text.size - start
        let threads = tuning.threads ?? ProcessorCount.active
        let pieceSize = max(1, tuning.pieceSize ?? min(1 << 20, max(tuning.minimumPieceSize, remaining / max(1, threads * 8))))
        let count = threads > 1 ? (remaining + pieceSize - 1) / pieceSize : 1
        // Rows per byte from the newlines after the header, to size the columns before they fill.
        var newlines = 0
        if let base = sample.baseAddress {
            var at = start
            while at < sample.count, let hit = memchr(base + at, 10, sample.count - at) {
                newlines += 1
                at = UnsafeRawPointer(hit) - UnsafeRawPointer(base) + 1
            }
        }
        let rate = Double(newlines) / Double(max(1, sample.count - start))
        for c in builders.indices { builders[c].reserve(Int(Double(remaining) * rate * 1.05) + 16) }
        let powers = PowersOfFive.shared
        if count < 2 {
            let stop = try Self.parseRange(
                text, from: start, limit: text.size, line: line, window: tuning.blockSize, into: &builders, buffer: buffer,
                tokenizer: tokenizer, fused: tuning.fusedRecords, powers: powers)
            line = stop.line
            return
        }
        let assembly = Assembly(
            text: text, cuts: (0...count).map { start + remaining * $0 / count }, builders: builders, line: line,
            rowsPerPiece: Int(Double(pieceSize) * rate * 1.2) + 16, delimiter: tokenizer.delimiter, window: tuning.blockSize,
            fused: tuning.fusedRecords, inOrder: tuning.inOrderThread, powers: powers)
        builders = []
        DispatchQueue.concurrentPerform(iterations: min(threads, count)) { _ in assembly.work() }
        if let error = assembly.error { throw error }
        builders = assembly.builders
        line = assembly.line
    }

    /// Parses the records that start in `start..<limit`, reading windows of `window` bytes.
    static func parseRange(
        _ text: CSVRandomAccess, from start: Int, limit: Int, line: Int, window: Int, into builders: inout [ColumnBuilder],
        buffer: ByteBuffer, tokenizer: CSVTokenizer, fused: Bool, powers: PowersOfFive
    ) throws -> CSVTokenizer.Stop {
        var at = start
        var line = line
        var want = max(window, 1 << 16)
        while at < limit {
            let view = try text.bytes(at: at, count: want, buffer: buffer)
            let stop = try parseRows(
                view, from: 0, limit: min(limit - at, view.count), final: at + view.count == text.size, line: line,
                into: &builders, tokenizer: tokenizer, fused: fused, powers: powers)
            if stop.incomplete, stop.end == 0 {
                want *= 2  // a record longer than the window
                continue
            }
            at += stop.end
            line = stop.line
        }
        return CSVTokenizer.Stop(end: at, line: line, incomplete: false)
    }
}

/// Hands out piece numbers `0..<count`, each once: in order from the front, or from the back.
final class PieceQueue: @unchecked Sendable {
    // `@unchecked Sendable`: `front` and `back` are only touched under `lock`.
    private let lock = NSLock()
    private var front = 0
    private var back: Int

    init(_ count: Int) {
        back = count
    }

    func takeFront() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard front < back else { return nil }
        front += 1
        return front - 1
    }

    func takeBack() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard front < back else { return nil }
        back -= 1
        return back
    }
}

/// The pieces of the records and the columns they are merged into, shared by the threads.
///
/// The first thread to start takes pieces from the front, in order, and parses each straight into
/// the merged columns from where the merge stands: no guess, no copy. The others take pieces from
/// the back and parse each into its own columns, with lines counted from 1. (On a busy machine the
/// other threads may barely run; the front thread then does nearly everything, as one thread
/// would.) The front thread holds the merge while it parses; when the two ends meet it merges the
/// back pieces that are finished, in order, and leaves the rest to whichever thread finishes the
/// next one. Merging a piece checks its guessed start against where the merge stands, parses it
/// again from there if the guess was wrong, throws its error if it has one, and appends its
/// columns.
///
/// `@unchecked Sendable`: the bookkeeping (`finished`, `merging`, `next`, `stopped`, `frontTaken`)
/// is only touched under `lock`; the merge state (`builders`, `at`, `line`, `error`) only by the
/// one thread that set `merging`, and read by the owner after `concurrentPerform` has joined the
/// threads; each piece is parsed by the one thread that took it, and read by the merge only once
/// finished.
private final class Assembly: @unchecked Sendable {
    let text: CSVRandomAccess
    let cuts: [Int]
    let delimiter: UInt8
    let window: Int
    let fused: Bool
    let powers: PowersOfFive
    private let pieces: [Piece]
    private let tasks: PieceQueue

    private let lock = NSLock()
    private var finished: [Bool]
    private var merging = false
    private var next = 0
    private var stopped = false
    private var frontTaken = false

    private(set) var builders: [ColumnBuilder]
    private var at: Int
    private(set) var line: Int
    private(set) var error: (any Error)?

    init(
        text: CSVRandomAccess, cuts: [Int], builders: [ColumnBuilder], line: Int, rowsPerPiece: Int, delimiter: UInt8,
        window: Int, fused: Bool, inOrder: Bool, powers: PowersOfFive
    ) {
        // Without an in-order thread, the front is taken from the start: every piece is a guess.
        frontTaken = !inOrder
        self.text = text
        self.cuts = cuts
        self.delimiter = delimiter
        self.window = window
        self.fused = fused
        self.powers = powers
        let count = cuts.count - 1
        pieces = (0..<count).map { _ in Piece(builders: builders, rows: rowsPerPiece) }
        tasks = PieceQueue(count)
        finished = [Bool](repeating: false, count: count)
        self.builders = builders
        at = cuts[0]
        self.line = line
    }

    func work() {
        let buffer = ByteBuffer()
        let tokenizer = CSVTokenizer(delimiter: delimiter)
        lock.lock()
        let front = !frontTaken
        if front {
            frontTaken = true
            merging = true
        }
        lock.unlock()
        if front {
            while !isStopped, let k = tasks.takeFront() {
                guard parseDirectly(k, buffer: buffer, tokenizer: tokenizer) else { return }
            }
            mergeFinished(buffer: buffer, tokenizer: tokenizer)
            return
        }
        while !isStopped, let k = tasks.takeBack() {
            let piece = pieces[k]
            piece.run { columns in
                // A piece starts just after the first newline from its cut (the first, at the header's end).
                let start = k == 0 ? cuts[0] : try text.afterNewline(from: cuts[k], buffer: buffer)
                let limit = k + 1 < pieces.count ? try text.afterNewline(from: cuts[k + 1], buffer: buffer) : text.size
                piece.setRange(start: start, limit: limit)
                return try parse(from: start, limit: limit, into: &columns, buffer: buffer, tokenizer: tokenizer)
            }
            lock.lock()
            finished[k] = true
            let merge = !merging
            merging = true
            lock.unlock()
            if merge { mergeFinished(buffer: buffer, tokenizer: tokenizer) }
        }
    }

    /// Parses piece `k`, the next to merge, straight into the merged columns from where the merge
    /// stands (the thread holds `merging`); false after an error, which stops everything.
    private func parseDirectly(_ k: Int, buffer: ByteBuffer, tokenizer: CSVTokenizer) -> Bool {
        do {
            let limit = k + 1 < pieces.count ? try text.afterNewline(from: cuts[k + 1], buffer: buffer) : text.size
            let stop = try TableAssembler.parseRange(
                text, from: at, limit: limit, line: line, window: limit - at + (1 << 16), into: &builders, buffer: buffer,
                tokenizer: tokenizer, fused: fused, powers: powers)
            at = stop.end
            line = stop.line
        } catch {
            self.error = error  // its lines are already those of the file
            lock.lock()
            stopped = true
            merging = false
            lock.unlock()
            return false
        }
        lock.lock()
        finished[k] = true
        next = k + 1
        lock.unlock()
        return true
    }

    private var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    private func parse(
        from start: Int, limit: Int, into columns: inout [ColumnBuilder], buffer: ByteBuffer, tokenizer: CSVTokenizer
    ) throws -> CSVTokenizer.Stop {
        try TableAssembler.parseRange(
            text, from: start, limit: limit, line: 1, window: limit - start + (1 << 16), into: &columns, buffer: buffer,
            tokenizer: tokenizer, fused: fused, powers: powers)
    }

    /// Merges finished pieces in order while the next one is finished; called by the thread that
    /// set `merging`, which it clears when it stops.
    private func mergeFinished(buffer: ByteBuffer, tokenizer: CSVTokenizer) {
        while true {
            lock.lock()
            guard !stopped, next < pieces.count, finished[next] else {
                merging = false
                lock.unlock()
                return
            }
            let piece = pieces[next]
            lock.unlock()
            do {
                try merge(piece, buffer: buffer, tokenizer: tokenizer)
            } catch {
                self.error = error
                lock.lock()
                stopped = true
                merging = false
                lock.unlock()
                return
            }
            lock.lock()
            next += 1
            lock.unlock()
        }
    }

    private func merge(_ piece: Piece, buffer: ByteBuffer, tokenizer: CSVTokenizer) throws {
        if let e = piece.failure { throw e }
        if at != piece.start {
            guard at < piece.limit else { return piece.release() }  // a record of the previous piece covered it
            // The guess fell inside a quoted field, or a record ran past it: parse from the truth.
            piece.reset(like: builders)
            let from = at
            piece.run { columns in try parse(from: from, limit: piece.limit, into: &columns, buffer: buffer, tokenizer: tokenizer) }
            if let e = piece.failure { throw e }
        }
        if let e = piece.error { throw CSVLineError(line: e.line + line - 1, message: e.message) }
        guard let stop = piece.stop else { return }  // invariant: run sets stop or an error
        for c in builders.indices { builders[c].append(piece.builders[c]) }
        piece.release()
        at = stop.end
        line += stop.line - 1
    }
}

/// One piece of the records: where it began and must stop, and what parsing it gave (lines
/// counted from 1).
private final class Piece {
    private(set) var builders: [ColumnBuilder]
    private(set) var start = -1
    private(set) var limit = -1
    private(set) var stop: CSVTokenizer.Stop?
    private(set) var error: CSVLineError?
    /// A failure that is not about the text (the file could not be read): thrown whatever the order.
    private(set) var failure: (any Error)?

    /// Rows to make room for when the piece is parsed into its own columns.
    private let rows: Int

    init(builders: [ColumnBuilder], rows: Int) {
        self.builders = builders.map { ColumnBuilder(name: $0.name, declared: $0.declared) }
        self.rows = rows
    }

    func setRange(start: Int, limit: Int) {
        self.start = start
        self.limit = limit
    }

    func reset(like columns: [ColumnBuilder]) {
        builders = columns.map { ColumnBuilder(name: $0.name, declared: $0.declared) }
        stop = nil
        error = nil
    }

    /// Frees the columns once merged, for the next pieces to reuse the memory.
    func release() {
        builders = []
    }

    func run(_ parse: (inout [ColumnBuilder]) throws -> CSVTokenizer.Stop) {
        var columns: [ColumnBuilder] = []
        swap(&columns, &builders)  // uniquely referenced while rows are appended
        defer { swap(&columns, &builders) }
        for c in columns.indices { columns[c].reserve(rows) }
        do {
            stop = try parse(&columns)
        } catch let e as CSVLineError {
            error = e
        } catch {
            failure = error
        }
    }
}
