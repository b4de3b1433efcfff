/// Accumulates one column while inferring its type.
///
/// The first value that is not missing decides: a number makes the column numeric, `true`/`false`
/// boolean, anything else text. A numeric or boolean column that meets a value of another kind
/// becomes text and sets `needsText`, because the values already stored lost their spelling: the
/// reader reads such a column again as text.
struct ColumnBuilder {
    enum Kind { case undecided, numeric, boolean, text }

    let name: String
    let declared: ColumnType?
    private(set) var kind: Kind
    /// Missing values seen while undecided.
    private var missing = 0
    private var numbers: [Double] = []
    /// 0 false, 1 true, 2 missing.
    private var flags: [UInt8] = []
    private var codes: [Int32] = []
    private var index: [String: Int32] = [:]
    private var categories: [String] = []
    /// Set when a column must become text after non-text values were stored.
    private(set) var needsText = false
    /// Rows to make room for once the column's kind is known.
    private var expectedRows = 0

    init(name: String, declared: ColumnType?) {
        self.name = name
        self.declared = declared
        switch declared {
        case .numeric: kind = .numeric
        case .boolean: kind = .boolean
        case .categorical: kind = .text
        case nil: kind = .undecided
        }
    }

    /// A builder for a later part of the file whose column is already text, so its values keep
    /// their spelling: the same state reading the whole file in order would reach.
    init(continuing other: ColumnBuilder) {
        self.init(name: other.name, declared: other.declared)
        if other.kind == .text { kind = .text }
    }

    /// Appends numbers to a numeric column.
    @inline(__always)
    mutating func appendNumbers(_ values: UnsafeBufferPointer<Double>) {
        numbers.append(contentsOf: values)
    }

    /// Starts over for a later part of the file after `other`, keeping the memory already reserved.
    mutating func restart(continuing other: ColumnBuilder) {
        kind = other.kind == .text ? .text : Self(name: name, declared: declared).kind
        missing = 0
        numbers.removeAll(keepingCapacity: true)
        flags.removeAll(keepingCapacity: true)
        codes.removeAll(keepingCapacity: true)
        index.removeAll(keepingCapacity: true)
        categories.removeAll(keepingCapacity: true)
        needsText = false
    }

    /// Makes room for `rows` more rows, so appending does not reallocate and copy.
    mutating func reserve(_ rows: Int) {
        expectedRows = count + rows
        switch kind {
        case .undecided: break
        case .numeric: numbers.reserveCapacity(expectedRows)
        case .boolean: flags.reserveCapacity(expectedRows)
        case .text: codes.reserveCapacity(expectedRows)
        }
    }

    /// A builder for a column read again as text.
    init(name: String, forcedText: Void) {
        self.init(name: name, declared: .categorical)
    }

    /// Rows added so far.
    var count: Int {
        switch kind {
        case .undecided: missing
        case .numeric: numbers.count
        case .boolean: flags.count
        case .text: codes.count
        }
    }

    static func isMissing(_ f: UnsafeBufferPointer<UInt8>) -> Bool {
        switch f.count {
        case 0: return true
        case 2: return f.elementsEqual("NA".utf8)
        case 3: return f.elementsEqual("N/A".utf8) || f.elementsEqual("NaN".utf8) || f.elementsEqual("nan".utf8)
        case 4: return f.elementsEqual("null".utf8) || f.elementsEqual("NULL".utf8)
        default: return false
        }
    }

    static func boolValue(_ f: UnsafeBufferPointer<UInt8>) -> UInt8? {
        if f.count == 4, f.elementsEqual("true".utf8) || f.elementsEqual("True".utf8) || f.elementsEqual("TRUE".utf8) { return 1 }
        if f.count == 5, f.elementsEqual("false".utf8) || f.elementsEqual("False".utf8) || f.elementsEqual("FALSE".utf8) { return 0 }
        return nil
    }

    static func display(_ f: UnsafeBufferPointer<UInt8>) -> String {
        String(decoding: f.prefix(40), as: UTF8.self) + (f.count > 40 ? "…" : "")
    }

    /// Adds one field of the record that starts on `line`.
    @inline(__always)
    mutating func add(_ f: UnsafeBufferPointer<UInt8>, quoted: Bool, line: Int) throws(CSVLineError) {
        // Missing markers never parse as numbers, so the common case can be tried first.
        if kind == .numeric, let v = DecimalParser.parse(f) {
            numbers.append(v)
            return
        }
        try addSlow(f, quoted: quoted, line: line)
    }

    private mutating func addSlow(_ f: UnsafeBufferPointer<UInt8>, quoted: Bool, line: Int) throws(CSVLineError) {
        // A quoted marker ("NA") is text; a quoted empty field is missing, as pandas reads it.
        let isMissing = f.isEmpty || (!quoted && Self.isMissing(f))
        switch kind {
        case .undecided:
            if isMissing {
                missing += 1
            } else if let v = DecimalParser.parse(f) {
                kind = .numeric
                numbers.reserveCapacity(max(expectedRows, missing + 1))
                numbers.append(contentsOf: repeatElement(.nan, count: missing))
                numbers.append(v)
            } else if let b = Self.boolValue(f) {
                kind = .boolean
                flags.reserveCapacity(max(expectedRows, missing + 1))
                flags.append(contentsOf: repeatElement(2, count: missing))
                flags.append(b)
            } else {
                kind = .text
                codes.reserveCapacity(max(expectedRows, missing + 1))
                codes.append(contentsOf: repeatElement(-1, count: missing))
                try addText(f, line: line)
            }
        case .numeric:
            if isMissing {
                numbers.append(.nan)
            } else if let v = DecimalParser.parse(f) {
                numbers.append(v)
            } else if declared == .numeric {
                throw CSVLineError(line: line, message: "column '\(name)' is declared numeric but has '\(Self.display(f))'")
            } else {
                becomeText(placeholders: numbers.count)
                try addText(f, line: line)
            }
        case .boolean:
            if isMissing {
                flags.append(2)
            } else if let b = Self.boolValue(f) {
                flags.append(b)
            } else if declared == .boolean {
                throw CSVLineError(line: line, message: "column '\(name)' is declared boolean but has '\(Self.display(f))'")
            } else {
                becomeText(placeholders: flags.count)
                try addText(f, line: line)
            }
        case .text:
            if isMissing {
                codes.append(-1)
            } else {
                try addText(f, line: line)
            }
        }
    }

    /// Turns a numeric or boolean column into text whose earlier rows will be read again.
    private mutating func becomeText(placeholders: Int) {
        needsText = true
        kind = .text
        numbers = []
        flags = []
        codes = [Int32](repeating: -1, count: placeholders)
    }

    private mutating func addText(_ f: UnsafeBufferPointer<UInt8>, line: Int) throws(CSVLineError) {
        guard let s = String(validating: f, as: UTF8.self) else {
            throw CSVLineError(line: line, message: "column '\(name)' has bytes that are not valid UTF-8")
        }
        if let c = index[s] {
            codes.append(c)
        } else {
            let c = Int32(categories.count)
            index[s] = c
            categories.append(s)
            codes.append(c)
        }
    }

    /// Appends the rows of `other`, which read the part of the file right after this one's, with
    /// the result reading both parts in order would give.
    mutating func append(_ other: ColumnBuilder) {
        if needsText { return }  // read again anyway
        if other.needsText {
            becomeText(placeholders: count + other.count)
            return
        }
        switch (kind, other.kind) {
        case (_, .undecided):
            switch kind {
            case .undecided: missing += other.missing
            case .numeric: numbers.append(contentsOf: repeatElement(.nan, count: other.missing))
            case .boolean: flags.append(contentsOf: repeatElement(2, count: other.missing))
            case .text: codes.append(contentsOf: repeatElement(-1, count: other.missing))
            }
        case (.undecided, _):
            let m = missing
            kind = other.kind
            let rows = max(expectedRows, m + other.count)
            switch kind {
            case .numeric:
                numbers.reserveCapacity(rows)
                numbers.append(contentsOf: repeatElement(.nan, count: m))
                numbers.append(contentsOf: other.numbers)
            case .boolean:
                flags.reserveCapacity(rows)
                flags.append(contentsOf: repeatElement(2, count: m))
                flags.append(contentsOf: other.flags)
            case .text:
                codes.reserveCapacity(rows)
                codes.append(contentsOf: repeatElement(-1, count: m))
                codes.append(contentsOf: other.codes)
                index = other.index
                categories = other.categories
            case .undecided: break
            }
        case (.numeric, .numeric):
            numbers.append(contentsOf: other.numbers)
        case (.boolean, .boolean):
            flags.append(contentsOf: other.flags)
        case (.text, .text):
            var map = [Int32](repeating: -1, count: other.categories.count)
            for (j, s) in other.categories.enumerated() {
                if let c = index[s] {
                    map[j] = c
                } else {
                    let c = Int32(categories.count)
                    index[s] = c
                    categories.append(s)
                    map[j] = c
                }
            }
            codes.reserveCapacity(codes.count + other.codes.count)
            for c in other.codes { codes.append(c < 0 ? -1 : map[Int(c)]) }
        default:
            // A value of another kind after stored values: reading in order would turn to text here.
            becomeText(placeholders: count + other.count)
        }
    }

    func finish() -> Column {
        switch kind {
        case .undecided:
            // All missing: numeric unless declared otherwise.
            switch declared {
            case .boolean: return Column(name: name, storage: .boolean([UInt8](repeating: 2, count: missing)))
            case .categorical: return Column(name: name, storage: .categorical(codes: [Int32](repeating: -1, count: missing), categories: []))
            default: return Column(name: name, storage: .numeric([Double](repeating: .nan, count: missing)))
            }
        case .numeric: return Column(name: name, storage: .numeric(numbers))
        case .boolean: return Column(name: name, storage: .boolean(flags))
        case .text: return Column(name: name, storage: .categorical(codes: codes, categories: categories))
        }
    }
}
