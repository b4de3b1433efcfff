import Foundation

/// Reads JSON one piece at a time, for hot request bodies whose shape is known: a caller walks an
/// object's keys or an array's elements and takes each value as the type it expects, so a batch of
/// a thousand records never becomes a thousand dictionaries (building `JSONValue` trees was half
/// of what the MLflow server's `log_batch` cost). Errors name the line and column, as
/// ``JSONValue/init(parsing:)`` does.
///
/// ```swift
/// let total = try JSONReader.read(bytes) { r in
///     var sum = 0.0
///     try r.objectKeys { r, key in
///         if key == "values" { try r.arrayElements { r in sum += try r.number() } } else { try r.skip() }
///     }
///     return sum
/// }
/// ```
public struct JSONReader {
    var scanner: JSONScanner

    /// Runs `body` over the JSON document in `bytes`; the whole document must be consumed.
    public static func read<T>(_ bytes: some Collection<UInt8>, _ body: (inout JSONReader) throws -> T) throws -> T {
        try withoutActuallyEscaping(body) { body in try read(bytes, escaping: body) }
    }

    static func read<T>(_ bytes: some Collection<UInt8>, escaping body: @escaping (inout JSONReader) throws -> T) throws -> T {
        let run = { (buffer: UnsafeBufferPointer<UInt8>) in
            Result { () throws -> T in
                var r = JSONReader(scanner: JSONScanner(buffer))
                if buffer.count >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF { r.scanner.i = 3 }
                r.scanner.skipSpace()
                let out = try body(&r)
                r.scanner.skipSpace()
                guard r.scanner.i == buffer.count else {
                    throw r.scanner.error("unexpected \(r.scanner.describe(r.scanner.i)) after the end of the JSON value")
                }
                return out
            }
        }
        return try (bytes.withContiguousStorageIfAvailable(run) ?? Array(bytes).withUnsafeBufferPointer(run)).get()
    }

    /// Whether the next value is `null` (consumed if so).
    public mutating func null() throws -> Bool {
        guard scanner.i < scanner.b.count, scanner.b[scanner.i] == UInt8(ascii: "n") else { return false }
        try scanner.literal("null")
        return true
    }

    /// An object's key as `objectFields` passes it: compared with literals without becoming a
    /// `String` (most keys are only compared), valid only during the call it is passed to.
    public struct Key {
        let raw: UnsafeBufferPointer<UInt8>?
        let escaped: String?

        /// The key as text.
        public var text: String { escaped ?? raw.map { String(decoding: $0, as: UTF8.self) } ?? "" }

        public static func == (key: Key, literal: StaticString) -> Bool {
            guard let raw = key.raw else { return key.escaped == literal.description }
            let n = literal.utf8CodeUnitCount
            guard raw.count == n else { return false }
            return n == 0 || memcmp(raw.baseAddress!, literal.utf8Start, n) == 0  // invariant: n > 0, so both have storage
        }
    }

    /// As ``objectKeys(_:)``, with each key as a ``Key``: for hot loops over many small objects.
    public mutating func objectFields(_ each: (inout JSONReader, Key) throws -> Void) throws {
        try members { r in
            // A key without escapes is its own bytes; one with escapes is decoded as usual.
            let start = r.scanner.i + 1
            var k = start
            while k < r.scanner.b.count, r.scanner.b[k] != UInt8(ascii: "\""), r.scanner.b[k] != UInt8(ascii: "\\"), r.scanner.b[k] >= 0x20 { k += 1 }
            if k < r.scanner.b.count, r.scanner.b[k] == UInt8(ascii: "\"") {
                r.scanner.i = k + 1
                return Key(raw: UnsafeBufferPointer(rebasing: r.scanner.b[start..<k]), escaped: nil)
            }
            return Key(raw: nil, escaped: try r.scanner.string())
        } value: { r, key in
            try each(&r, key)
        }
    }

    /// Calls `each` with every key of the object at the cursor; `each` must consume the key's value.
    public mutating func objectKeys(_ each: (inout JSONReader, String) throws -> Void) throws {
        try members { r in try r.scanner.string() } value: { r, key in try each(&r, key) }
    }

    /// The walk of an object's members: `key` reads a key at its opening quote, `value` consumes
    /// the value after the colon.
    mutating func members<K>(key readKey: (inout JSONReader) throws -> K, value each: (inout JSONReader, K) throws -> Void) throws {
        guard scanner.i < scanner.b.count, scanner.b[scanner.i] == UInt8(ascii: "{") else {
            throw scanner.error("expected an object but found \(scanner.describe(scanner.i))")
        }
        scanner.depth += 1
        guard scanner.depth <= JSONScanner.maxDepth else { throw scanner.error("the JSON nests deeper than \(JSONScanner.maxDepth) levels") }
        defer { scanner.depth -= 1 }
        scanner.i += 1
        scanner.skipSpace()
        if scanner.i < scanner.b.count, scanner.b[scanner.i] == UInt8(ascii: "}") {
            scanner.i += 1
            return
        }
        while true {
            scanner.skipSpace()
            guard scanner.i < scanner.b.count, scanner.b[scanner.i] == UInt8(ascii: "\"") else {
                throw scanner.error("expected a quoted key but found \(scanner.describe(scanner.i))")
            }
            let keyStart = scanner.i
            let key = try readKey(&self)
            scanner.skipSpace()
            guard scanner.i < scanner.b.count, scanner.b[scanner.i] == UInt8(ascii: ":") else {
                let text = String(decoding: UnsafeBufferPointer(rebasing: scanner.b[keyStart..<scanner.i]), as: UTF8.self)
                throw scanner.error("expected ':' after the key \(text) but found \(scanner.describe(scanner.i))")
            }
            scanner.i += 1
            scanner.skipSpace()
            try each(&self, key)
            scanner.skipSpace()
            guard scanner.i < scanner.b.count else { throw scanner.error("the JSON ends inside an object: expected ',' or '}'") }
            if scanner.b[scanner.i] == UInt8(ascii: ",") {
                scanner.i += 1
                continue
            }
            guard scanner.b[scanner.i] == UInt8(ascii: "}") else { throw scanner.error("expected ',' or '}' but found \(scanner.describe(scanner.i))") }
            scanner.i += 1
            return
        }
    }

    /// Calls `each` for every element of the array at the cursor; `each` must consume it.
    public mutating func arrayElements(_ each: (inout JSONReader) throws -> Void) throws {
        guard scanner.i < scanner.b.count, scanner.b[scanner.i] == UInt8(ascii: "[") else {
            throw scanner.error("expected a list but found \(scanner.describe(scanner.i))")
        }
        scanner.depth += 1
        guard scanner.depth <= JSONScanner.maxDepth else { throw scanner.error("the JSON nests deeper than \(JSONScanner.maxDepth) levels") }
        defer { scanner.depth -= 1 }
        scanner.i += 1
        scanner.skipSpace()
        if scanner.i < scanner.b.count, scanner.b[scanner.i] == UInt8(ascii: "]") {
            scanner.i += 1
            return
        }
        while true {
            scanner.skipSpace()
            try each(&self)
            scanner.skipSpace()
            guard scanner.i < scanner.b.count else { throw scanner.error("the JSON ends inside an array: expected ',' or ']'") }
            if scanner.b[scanner.i] == UInt8(ascii: ",") {
                scanner.i += 1
                continue
            }
            guard scanner.b[scanner.i] == UInt8(ascii: "]") else { throw scanner.error("expected ',' or ']' but found \(scanner.describe(scanner.i))") }
            scanner.i += 1
            return
        }
    }

    /// The value at the cursor, whole.
    public mutating func value() throws -> JSONValue { try scanner.value() }

    /// Consumes the value at the cursor.
    public mutating func skip() throws { _ = try scanner.value() }

    /// The value at the cursor if it is a string or a number (as text), nil for null; `what` names
    /// it in the error for anything else.
    public mutating func text(_ what: String) throws -> String? {
        guard scanner.i < scanner.b.count else { throw scanner.error("the JSON ends where '\(what)' was expected") }
        switch scanner.b[scanner.i] {
        case UInt8(ascii: "\""): return try scanner.string()
        case UInt8(ascii: "n"):
            try scanner.literal("null")
            return nil
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return NumberText.shortest(try scanner.number())
        default: throw scanner.error("'\(what)' must be a string but is \(scanner.describe(scanner.i))")
        }
    }

    /// The value at the cursor as a number: a JSON number, or a string holding one (protobuf's
    /// JSON sends int64s as strings, and NaN and the infinities as "NaN", "Infinity", "-Infinity");
    /// nil for null.
    public mutating func number(_ what: String) throws -> Double? {
        guard scanner.i < scanner.b.count else { throw scanner.error("the JSON ends where '\(what)' was expected") }
        switch scanner.b[scanner.i] {
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try scanner.number()
        case UInt8(ascii: "n"):
            try scanner.literal("null")
            return nil
        case UInt8(ascii: "\""):
            let start = scanner.i
            let s = try scanner.string()
            switch s {
            case "NaN": return .nan
            case "Infinity": return .infinity
            case "-Infinity": return -.infinity
            default:
                // An int64 sent as text (a timestamp): read without a library call.
                if let n = Self.integer(s.utf8) { return Double(n) }
                guard let d = Double(s) else { throw scanner.error("'\(what)' must be a number but is \"\(s)\"", at: start) }
                return d
            }
        default: throw scanner.error("'\(what)' must be a number but is \(scanner.describe(scanner.i))")
        }
    }

    /// Decimal digits (optionally signed) of up to 18 digits, else nil.
    static func integer(_ u: String.UTF8View) -> Int64? {
        var it = u.makeIterator()
        var negative = false, n: Int64 = 0, count = 0
        guard var c = it.next() else { return nil }
        if c == UInt8(ascii: "-") {
            negative = true
            guard let d = it.next() else { return nil }
            c = d
        }
        while true {
            guard c >= 48 && c <= 57, count < 18 else { return nil }
            n = n * 10 + Int64(c - 48)
            count += 1
            guard let d = it.next() else { break }
            c = d
        }
        return negative ? -n : n
    }

    /// The value at the cursor as a number; `what` names it in the error.
    public mutating func number() throws -> Double {
        guard let d = try number("value") else { throw scanner.error("expected a number but found null") }
        return d
    }
}

/// Numbers as the shortest text that reads back as the same value (`3`, not `3.0`).
enum NumberText {
    static func shortest(_ d: Double) -> String {
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return "\(d)"
    }
}
