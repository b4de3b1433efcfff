import FlywheelCore
import Foundation

/// Reads CSV into a ``Table``, inferring each column's type (numeric, boolean, categorical).
///
/// A file is read in pieces of up to 1 MiB, split at record boundaries and parsed on every core (a
/// pipe, in blocks on one thread), so memory holds the table, not the text. Missing values are
/// empty fields and unquoted `NA`, `N/A`, `NaN`, `nan`, `null`, `NULL` (quoted, they are text). A
/// column is numeric when every other value parses as a number, boolean when every value is
/// `true`/`false` (any case), categorical otherwise. A column that turns out not to be numeric
/// after numbers were seen is read again as text in a second pass, so no value ever loses its
/// spelling.
public struct CSVReader: Sendable {
    public static let missingMarkers: Set<String> = ["", "NA", "N/A", "NaN", "nan", "null", "NULL"]
    /// Block size of the serial scans (type inference, chunked reading, the text pass).
    static let chunkSize = 1 << 20

    /// Declared types by column name; other columns are inferred.
    public var types: [String: ColumnType]
    public var delimiter: UInt8
    package var tuning = Tuning()

    /// How a read splits its work. Tests shrink it to put block and piece boundaries everywhere.
    package struct Tuning: Sendable {
        /// Bytes read at a time from a stream, and by a single thread.
        package var blockSize: Int
        /// Threads that parse a file or bytes in memory; nil means one per core.
        package var threads: Int?
        /// The size of the pieces threads take in turn; nil picks eight per thread, from
        /// `minimumPieceSize` to 1 MiB (a piece then stays in a core's cache while it is parsed).
        package var pieceSize: Int?
        package var minimumPieceSize: Int
        /// Whether records of unquoted fields take the fused path (tests turn it off for a reference).
        package var fusedRecords: Bool
        /// Whether one thread parses pieces in order straight into the columns (tests turn it off
        /// so that every piece starts at a guess).
        package var inOrderThread: Bool

        package init(
            blockSize: Int = 1 << 20, threads: Int? = nil, pieceSize: Int? = nil, minimumPieceSize: Int = 256 << 10,
            fusedRecords: Bool = true, inOrderThread: Bool = true
        ) {
            self.blockSize = blockSize
            self.threads = threads
            self.pieceSize = pieceSize
            self.minimumPieceSize = minimumPieceSize
            self.fusedRecords = fusedRecords
            self.inOrderThread = inOrderThread
        }
    }

    public init(types: [String: ColumnType] = [:], delimiter: UInt8 = UInt8(ascii: ",")) {
        self.types = types
        self.delimiter = delimiter
    }

    /// Reads the file at `url`.
    public func read(contentsOf url: URL) throws -> Table {
        try read(source: url.lastPathComponent, input: .file(url))
    }

    /// Reads CSV text held in memory.
    public func read(_ data: Data, source: String = "input") throws -> Table {
        try read(source: source, input: .data(data))
    }

    /// The column names of a header record: UTF-8, non-empty and distinct.
    static func headerNames(_ record: CSVRecord) throws(CSVLineError) -> [String] {
        var names: [String] = []
        for i in 0..<record.count {
            guard let name = String(validating: record.field(i), as: UTF8.self) else {
                throw CSVLineError(line: record.line, message: "the header has bytes that are not UTF-8")
            }
            guard !name.isEmpty else {
                throw CSVLineError(line: record.line, message: "header field \(i + 1) is empty: every column needs a name")
            }
            if names.contains(name) { throw CSVLineError(line: record.line, message: "the header names column '\(name)' twice") }
            names.append(name)
        }
        return names
    }

    /// Skips a UTF-8 byte-order mark at the start of the text; nil when there are too few bytes to tell.
    static func textStart(_ block: UnsafeBufferPointer<UInt8>, final: Bool) -> Int? {
        if block.count < 3 { return final ? 0 : nil }
        return block[0] == 0xEF && block[1] == 0xBB && block[2] == 0xBF ? 3 : 0
    }

    /// Calls `header` with the column names, then `row` with each record, one thread, streaming;
    /// used by the text pass, type inference and chunked reading.
    static func scan(
        source: String, delimiter: UInt8, input: CSVInput,
        header: ([String]) throws -> Void, row: (_ record: CSVRecord) throws -> Void
    ) throws {
        let tokenizer = CSVTokenizer(delimiter: delimiter)
        var columns = -1
        var line = 1
        var started = false
        do {
            try input.forEachBlock(minimum: chunkSize) { block, final in
                var start = 0
                if !started {
                    guard let s = textStart(block, final: final) else { return 0 }
                    start = s
                    started = true
                }
                let stop = try tokenizer.tokenize(block, from: start, limit: block.count, final: final, line: line) { record in
                    if columns < 0 {
                        let names = try headerNames(record)
                        columns = names.count
                        try header(names)
                    } else {
                        guard record.count == columns else {
                            throw CSVLineError(line: record.line, message: "expected \(columns) fields as in the header, found \(record.count)")
                        }
                        try row(record)
                    }
                    return true
                }
                line = stop.line
                return stop.end
            }
        } catch let e as CSVLineError {
            throw e.named(source)
        }
        if columns < 0 { throw FlywheelError.invalidArgument("\(source): the file is empty; a header row is required") }
    }

    func read(source: String, input: CSVInput) throws -> Table {
        var assembler = TableAssembler(source: source, delimiter: delimiter, types: types, tuning: tuning)
        switch input {
        case .data(let data):
            try data.withUnsafeBytes { raw in try assembler.read(.memory(raw.bindMemory(to: UInt8.self))) }
        case .file(let url):
            let handle = try CSVInput.open(url)
            defer { try? handle.close() }
            let fd = handle.fileDescriptor
            if let text = CSVRandomAccess.file(fd: fd, path: url.path) {
                try assembler.read(text)
            } else {
                try CSVInput.stream(fd: fd, path: url.path, minimum: tuning.blockSize) { block, final in
                    try assembler.consume(block, final: final)
                }
            }
        case .chunks:
            try input.forEachBlock(minimum: tuning.blockSize) { block, final in try assembler.consume(block, final: final) }
        }
        guard let names = assembler.names else {
            throw FlywheelError.invalidArgument("\(source): the file is empty; a header row is required")
        }
        for name in types.keys where !names.contains(name) {
            throw FlywheelError.invalidArgument("\(source): declared column '\(name)' is not in the header")
        }
        var builders = assembler.builders
        // Columns that switched to text after numbers were seen: read their text again.
        let redo = builders.indices.filter { builders[$0].needsText }
        if !redo.isEmpty {
            for c in redo { builders[c] = ColumnBuilder(name: names[c], forcedText: ()) }
            try Self.scan(source: source, delimiter: delimiter, input: input, header: { _ in }, row: { record in
                for c in redo { try builders[c].add(record.field(c), quoted: record.isQuoted(c), line: record.line) }
            })
        }
        return try Table(columns: builders.map { $0.finish() })
    }
}

extension CSVReader {
    /// Reads `bytes` fed in chunks of `chunkSize` (tests use it to cut records anywhere).
    package static func readChunked(
        _ bytes: [UInt8], chunkSize: Int, types: [String: ColumnType] = [:], tuning: Tuning = Tuning()
    ) throws -> Table {
        var reader = CSVReader(types: types)
        reader.tuning = tuning
        return try reader.read(source: "chunked", input: .chunks { consume in
            var i = 0
            while i < bytes.count {
                try consume(Data(bytes[i..<min(i + chunkSize, bytes.count)]), false)
                i += chunkSize
            }
            try consume(Data(), true)
        })
    }
}

extension CSVReader {
    /// Reads with declared types, but a declared column missing from the header is simply absent
    /// (validation reports it) rather than an error.
    public func readLenient(contentsOf url: URL) throws -> Table {
        var header: [String] = []
        do {
            try Self.scan(source: url.lastPathComponent, delimiter: delimiter, input: .file(url), header: { h in
                header = h
                throw HeaderRead()
            }, row: { _ in })
        } catch is HeaderRead {}
        var r = self
        r.types = types.filter { header.contains($0.key) }
        return try r.read(contentsOf: url)
    }
}

/// Stops a scan once the header is known.
struct HeaderRead: Error {}
