import FlywheelCore
import Foundation

/// Reads CSV into a ``Table``, inferring each column's type (numeric, boolean, categorical).
///
/// The file streams through in 1 MiB chunks, so memory holds the table, not the text. Missing
/// values are empty fields and unquoted `NA`, `N/A`, `NaN`, `nan`, `null`, `NULL` (quoted, they
/// are text). A column is numeric
/// when every other value parses as a number, boolean when every value is `true`/`false` (any
/// case), categorical otherwise. A column that turns out not to be numeric after numbers were
/// seen is read again as text in a second pass, so no value ever loses its spelling.
public struct CSVReader: Sendable {
    public static let missingMarkers: Set<String> = ["", "NA", "N/A", "NaN", "nan", "null", "NULL"]
    static let chunkSize = 1 << 20

    /// Declared types by column name; other columns are inferred.
    public var types: [String: ColumnType]
    public var delimiter: UInt8

    public init(types: [String: ColumnType] = [:], delimiter: UInt8 = UInt8(ascii: ",")) {
        self.types = types
        self.delimiter = delimiter
    }

    /// Reads the file at `url`.
    public func read(contentsOf url: URL) throws -> Table {
        try read(source: url.lastPathComponent, feed: Self.fileFeed(url))
    }

    /// Reads CSV text held in memory.
    public func read(_ data: Data, source: String = "input") throws -> Table {
        try read(source: source) { consume in try consume(data, true) }
    }

    /// Calls `visit` with the header, then each record's fields, streaming; used by readers and profilers.
    static func scan(
        source: String, delimiter: UInt8, feed: ((Data, Bool) throws -> Void) throws -> Void,
        header: ([String]) throws -> Void, row: (_ tokenizer: inout CSVTokenizer, _ index: Int) throws -> Void
    ) throws {
        try withoutActuallyEscaping(header) { header in
            try withoutActuallyEscaping(row) { row in
                try scanEscaping(source: source, delimiter: delimiter, feed: feed, header: header, row: row)
            }
        }
    }

    private static func scanEscaping(
        source: String, delimiter: UInt8, feed: ((Data, Bool) throws -> Void) throws -> Void,
        header: @escaping ([String]) throws -> Void, row: @escaping (_ tokenizer: inout CSVTokenizer, _ index: Int) throws -> Void
    ) throws {
        var tok = CSVTokenizer(delimiter: delimiter, source: source)
        var columns = -1
        var index = 0
        try feed { chunk, final in
            try tok.feed(chunk, final: final) { t in
                if columns < 0 {
                    var names: [String] = []
                    for i in 0..<t.fieldCount {
                        guard let name = String(validating: t.field(i), as: UTF8.self) else {
                            throw t.error("the header has bytes that are not UTF-8")
                        }
                        guard !name.isEmpty else { throw t.error("header field \(i + 1) is empty: every column needs a name") }
                        if names.contains(name) { throw t.error("the header names column '\(name)' twice") }
                        names.append(name)
                    }
                    columns = names.count
                    try header(names)
                    return
                }
                guard t.fieldCount == columns else {
                    throw t.error("expected \(columns) fields as in the header, found \(t.fieldCount)")
                }
                try row(&t, index)
                index += 1
            }
        }
        if columns < 0 { throw FlywheelError.invalidArgument("\(source): the file is empty; a header row is required") }
    }

    func read(source: String, feed: ((Data, Bool) throws -> Void) throws -> Void) throws -> Table {
        var names: [String] = []
        var builders: [ColumnBuilder] = []
        try Self.scan(source: source, delimiter: delimiter, feed: feed, header: { h in
            names = h
            builders = h.map { ColumnBuilder(declared: types[$0]) }
        }, row: { t, _ in
            for c in 0..<builders.count { try builders[c].add(c, tokenizer: t, column: names[c]) }
        })
        for name in types.keys where !names.contains(name) {
            throw FlywheelError.invalidArgument("\(source): declared column '\(name)' is not in the header")
        }
        // Columns that switched to text after numbers were seen: read their text again.
        let redo = builders.indices.filter { builders[$0].needsText }
        if !redo.isEmpty {
            for c in redo { builders[c] = ColumnBuilder(forcedText: ()) }
            try Self.scan(source: source, delimiter: delimiter, feed: feed, header: { _ in }, row: { t, _ in
                for c in redo { try builders[c].add(c, tokenizer: t, column: names[c]) }
            })
        }
        return try Table(columns: zip(names, builders).map { $1.finish(name: $0) })
    }
}

/// Accumulates one column while inferring its type.
struct ColumnBuilder {
    enum State {
        case undecided(missing: Int)
        case numeric([Double])
        case boolean([UInt8])
        case text(codes: [Int32], index: [String: Int32], categories: [String])
    }
    var state: State
    let declared: ColumnType?
    /// Set when a column must become text after non-text values were stored.
    var needsText = false
    var parseBuffer = [CChar](repeating: 0, count: 64)

    init(declared: ColumnType?) {
        self.declared = declared
        switch declared {
        case .numeric: state = .numeric([])
        case .boolean: state = .boolean([])
        case .categorical: state = .text(codes: [], index: [:], categories: [])
        case nil: state = .undecided(missing: 0)
        }
    }

    init(forcedText: Void) {
        declared = .categorical
        state = .text(codes: [], index: [:], categories: [])
    }

    static func isMissing(_ f: ArraySlice<UInt8>) -> Bool {
        switch f.count {
        case 0: return true
        case 2: return f.elementsEqual("NA".utf8)
        case 3: return f.elementsEqual("N/A".utf8) || f.elementsEqual("NaN".utf8) || f.elementsEqual("nan".utf8)
        case 4: return f.elementsEqual("null".utf8) || f.elementsEqual("NULL".utf8)
        default: return false
        }
    }

    static func boolValue(_ f: ArraySlice<UInt8>) -> UInt8? {
        if f.count == 4, f.elementsEqual("true".utf8) || f.elementsEqual("True".utf8) || f.elementsEqual("TRUE".utf8) { return 1 }
        if f.count == 5, f.elementsEqual("false".utf8) || f.elementsEqual("False".utf8) || f.elementsEqual("FALSE".utf8) { return 0 }
        return nil
    }

    /// Parses a decimal number exactly (strtod), or nil. Accepts what pandas does: sign, digits,
    /// point, exponent, `inf`/`infinity`.
    mutating func number(_ f: ArraySlice<UInt8>) -> Double? {
        guard let first = f.first, f.count < 63 else { return f.count >= 63 ? Self.longNumber(f) : nil }
        // Cheap rejection: numbers start with a digit, sign, point or i/I (inf).
        guard (first >= 48 && first <= 57) || first == 45 || first == 43 || first == 46 || first == 105 || first == 73 else {
            return nil
        }
        var i = 0
        for b in f {
            // strtod also takes hex and "nan(...)"; reject anything outside the decimal alphabet.
            guard (b >= 48 && b <= 57) || b == 45 || b == 43 || b == 46 || b == 101 || b == 69 || b == 105 || b == 73
                || b == 110 || b == 78 || b == 102 || b == 70 || b == 116 || b == 84 || b == 121 || b == 89
            else { return nil }
            parseBuffer[i] = CChar(bitPattern: b)
            i += 1
        }
        parseBuffer[i] = 0
        return parseBuffer.withUnsafeBufferPointer { p -> Double? in
            guard let base = p.baseAddress else { return nil }
            var end: UnsafeMutablePointer<CChar>?
            let v = strtod(base, &end)
            guard let end, end - UnsafeMutablePointer(mutating: base) == i else { return nil }
            return v
        }
    }

    static func longNumber(_ f: ArraySlice<UInt8>) -> Double? {
        guard let s = String(validating: f, as: UTF8.self) else { return nil }
        return Double(s)
    }

    /// Adds field `index` of the tokenizer's current record.
    mutating func add(_ index: Int, tokenizer t: CSVTokenizer, column: String) throws {
        let f = t.field(index)
        // A quoted marker ("NA") is text; a quoted empty field is missing, as pandas reads it.
        let missing = f.isEmpty || (!t.quoted[index] && Self.isMissing(f))
        switch state {
        case .undecided(let m):
            if missing {
                state = .undecided(missing: m + 1)
                return
            }
            if let v = number(f) {
                state = .numeric([Double](repeating: .nan, count: m) + [v])
            } else if let b = Self.boolValue(f) {
                state = .boolean([UInt8](repeating: 2, count: m) + [b])
            } else {
                state = .text(codes: [Int32](repeating: -1, count: m), index: [:], categories: [])
                try addText(f, t, column)
            }
        case .numeric(var values):
            if missing {
                state = .boolean([])  // placeholder so the array is uniquely referenced while we append
                values.append(.nan)
                state = .numeric(values)
            } else if let v = number(f) {
                state = .boolean([])
                values.append(v)
                state = .numeric(values)
            } else if declared == .numeric {
                throw t.error("column '\(column)' is declared numeric but has '\(Self.display(f))'")
            } else {
                needsText = true
                state = .text(codes: [Int32](repeating: -1, count: values.count), index: [:], categories: [])
                try addText(f, t, column)
            }
        case .boolean(var values):
            if missing || Self.boolValue(f) != nil {
                state = .numeric([])
                values.append(missing ? 2 : Self.boolValue(f) ?? 2)
                state = .boolean(values)
            } else if declared == .boolean {
                throw t.error("column '\(column)' is declared boolean but has '\(Self.display(f))'")
            } else {
                needsText = true
                state = .text(codes: [Int32](repeating: -1, count: values.count), index: [:], categories: [])
                try addText(f, t, column)
            }
        case .text:
            if missing {
                appendCode(-1)
            } else {
                try addText(f, t, column)
            }
        }
    }

    static func display(_ f: ArraySlice<UInt8>) -> String {
        String(decoding: f.prefix(40), as: UTF8.self) + (f.count > 40 ? "…" : "")
    }

    mutating func appendCode(_ code: Int32) {
        guard case .text(var codes, let index, let cats) = state else { return }
        state = .undecided(missing: 0)
        codes.append(code)
        state = .text(codes: codes, index: index, categories: cats)
    }

    mutating func addText(_ f: ArraySlice<UInt8>, _ t: CSVTokenizer, _ column: String) throws {
        guard case .text(var codes, var index, var cats) = state else { return }
        guard let s = String(validating: f, as: UTF8.self) else {
            throw t.error("column '\(column)' has bytes that are not valid UTF-8")
        }
        state = .undecided(missing: 0)
        if let c = index[s] {
            codes.append(c)
        } else {
            let c = Int32(cats.count)
            index[s] = c
            cats.append(s)
            codes.append(c)
        }
        state = .text(codes: codes, index: index, categories: cats)
    }

    func finish(name: String) -> Column {
        switch state {
        case .undecided(let m):
            // All missing: numeric unless declared otherwise.
            switch declared {
            case .boolean: return Column(name: name, storage: .boolean([UInt8](repeating: 2, count: m)))
            case .categorical: return Column(name: name, storage: .categorical(codes: [Int32](repeating: -1, count: m), categories: []))
            default: return Column(name: name, storage: .numeric([Double](repeating: .nan, count: m)))
            }
        case .numeric(let v): return Column(name: name, storage: .numeric(v))
        case .boolean(let b): return Column(name: name, storage: .boolean(b))
        case .text(let codes, _, let cats): return Column(name: name, storage: .categorical(codes: codes, categories: cats))
        }
    }
}

extension CSVReader {
    /// Reads `bytes` fed in chunks of `chunkSize` (tests use it to cut records anywhere).
    package static func readChunked(_ bytes: [UInt8], chunkSize: Int, types: [String: ColumnType] = [:]) throws -> Table {
        try CSVReader(types: types).read(source: "chunked") { consume in
            var i = 0
            while i < bytes.count {
                try consume(Data(bytes[i..<min(i + chunkSize, bytes.count)]), false)
                i += chunkSize
            }
            try consume(Data(), true)
        }
    }
}

extension CSVReader {
    /// Reads with declared types, but a declared column missing from the header is simply absent
    /// (validation reports it) rather than an error.
    public func readLenient(contentsOf url: URL) throws -> Table {
        var header: [String] = []
        do {
            try Self.scan(source: url.lastPathComponent, delimiter: delimiter, feed: Self.fileFeed(url), header: { h in
                header = h
                throw HeaderRead()
            }, row: { _, _ in })
        } catch is HeaderRead {}
        var r = self
        r.types = types.filter { header.contains($0.key) }
        return try r.read(contentsOf: url)
    }
}

/// Stops a scan once the header is known.
struct HeaderRead: Error {}
