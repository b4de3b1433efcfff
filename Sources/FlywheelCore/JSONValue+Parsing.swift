import Foundation

extension JSONValue {
    /// Parses JSON text (RFC 8259) from bytes.
    ///
    /// Serving decodes every request body with this: Foundation's `JSONDecoder` into a `JSONValue`
    /// costs about 20 µs for a four-field record, a fifth of a whole prediction request, while a
    /// direct scan costs about one. It also says where a body goes wrong: errors name the line and
    /// column and what was expected there.
    public init(parsing bytes: some Collection<UInt8>) throws {
        let scan = { (buffer: UnsafeBufferPointer<UInt8>) in
            Result { () throws -> JSONValue in
                var p = JSONScanner(buffer)
                return try p.document()
            }
        }
        let result = bytes.withContiguousStorageIfAvailable(scan) ?? Array(bytes).withUnsafeBufferPointer(scan)
        self = try result.get()
    }
}

/// A single-pass JSON scanner over bytes; nesting is limited so hostile input cannot exhaust the stack.
struct JSONScanner {
    let b: UnsafeBufferPointer<UInt8>
    var i = 0
    var depth = 0
    static let maxDepth = 512

    init(_ buffer: UnsafeBufferPointer<UInt8>) { b = buffer }

    mutating func document() throws -> JSONValue {
        // A UTF-8 byte order mark is tolerated, as many editors write one.
        if b.count >= 3, b[0] == 0xEF, b[1] == 0xBB, b[2] == 0xBF { i = 3 }
        skipSpace()
        let v = try value()
        skipSpace()
        guard i == b.count else { throw error("unexpected \(describe(i)) after the end of the JSON value") }
        return v
    }

    mutating func skipSpace() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    mutating func value() throws -> JSONValue {
        guard i < b.count else { throw error("the JSON ends where a value was expected") }
        switch b[i] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw error("expected a value (object, array, string, number, true, false or null) but found \(describe(i))")
        }
    }

    mutating func object() throws -> JSONValue {
        depth += 1
        guard depth <= Self.maxDepth else { throw error("the JSON nests deeper than \(Self.maxDepth) levels") }
        defer { depth -= 1 }
        i += 1
        // Room for the few keys most objects have, so building one does not regrow it 3 times
        // (a third of log_batch's parse time was dictionary growth).
        var o = [String: JSONValue](minimumCapacity: 6)
        skipSpace()
        if i < b.count, b[i] == UInt8(ascii: "}") {
            i += 1
            return .object(o)
        }
        while true {
            skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw error("expected a quoted key but found \(describe(i))") }
            let key = try string()
            skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: ":") else { throw error("expected ':' after the key \"\(key)\" but found \(describe(i))") }
            i += 1
            skipSpace()
            o[key] = try value()
            skipSpace()
            guard i < b.count else { throw error("the JSON ends inside an object: expected ',' or '}'") }
            if b[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            guard b[i] == UInt8(ascii: "}") else { throw error("expected ',' or '}' but found \(describe(i))") }
            i += 1
            return .object(o)
        }
    }

    mutating func array() throws -> JSONValue {
        depth += 1
        guard depth <= Self.maxDepth else { throw error("the JSON nests deeper than \(Self.maxDepth) levels") }
        defer { depth -= 1 }
        i += 1
        var a: [JSONValue] = []
        skipSpace()
        if i < b.count, b[i] == UInt8(ascii: "]") {
            i += 1
            return .array(a)
        }
        while true {
            skipSpace()
            a.append(try value())
            skipSpace()
            guard i < b.count else { throw error("the JSON ends inside an array: expected ',' or ']'") }
            if b[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            guard b[i] == UInt8(ascii: "]") else { throw error("expected ',' or ']' but found \(describe(i))") }
            i += 1
            return .array(a)
        }
    }

    mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        let w = UnsafeBufferPointer(start: word.utf8Start, count: n)
        guard i + n <= b.count, (0..<n).allSatisfy({ b[i + $0] == w[$0] }) else {
            throw error("expected \(word) but found \(describe(i))")
        }
        i += n
    }

    mutating func number() throws -> Double {
        let start = i
        if b[i] == UInt8(ascii: "-") { i += 1 }
        guard i < b.count, isDigit(b[i]) else { throw error("a number needs digits after '-'") }
        if b[i] == UInt8(ascii: "0") {
            i += 1
            if i < b.count, isDigit(b[i]) { throw error("a number may not start with 0 followed by digits") }
        } else {
            while i < b.count, isDigit(b[i]) { i += 1 }
        }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            guard i < b.count, isDigit(b[i]) else { throw error("a number needs digits after '.'") }
            while i < b.count, isDigit(b[i]) { i += 1 }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard i < b.count, isDigit(b[i]) else { throw error("a number needs digits in its exponent") }
            while i < b.count, isDigit(b[i]) { i += 1 }
        }
        if let d = Self.fastDecimal(UnsafeBufferPointer(rebasing: b[start..<i])) { return d }
        let text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
        guard let d = Double(text), d.isFinite else { throw error("the number \(text) is out of range") }
        return d
    }

    func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }

    /// Exact powers of ten a Double holds.
    static let powersOfTen: [Double] = (0...22).map { p in (0..<p).reduce(1.0) { a, _ in a * 10 } }

    /// A number's value without a library call when that is exact (Clinger's fast path): at most
    /// 15 significant digits (so the digits are an exact Double) scaled by a power of ten of at
    /// most 22 (also exact), where one correctly rounded multiply or divide gives the correctly
    /// rounded result. `0.001`, `1733000000000` and `-2.5e3` qualify; nil sends the text to the
    /// general parser. `text` is a well-formed JSON number.
    static func fastDecimal(_ text: UnsafeBufferPointer<UInt8>) -> Double? {
        var k = 0
        var negative = false
        if text[k] == UInt8(ascii: "-") {
            negative = true
            k += 1
        }
        var mantissa: Int64 = 0
        var digits = 0, scale = 0
        var seenPoint = false
        while k < text.count {
            let c = text[k]
            if c >= 48 && c <= 57 {
                if mantissa != 0 || c != 48 { digits += 1 }
                guard digits <= 15 else { return nil }
                mantissa = mantissa * 10 + Int64(c - 48)
                if seenPoint { scale -= 1 }
            } else if c == UInt8(ascii: ".") {
                seenPoint = true
            } else {
                break  // the exponent
            }
            k += 1
        }
        if k < text.count {
            k += 1  // 'e' or 'E'
            var expNegative = false
            if text[k] == UInt8(ascii: "+") || text[k] == UInt8(ascii: "-") {
                expNegative = text[k] == UInt8(ascii: "-")
                k += 1
            }
            var e = 0
            while k < text.count {
                e = e * 10 + Int(text[k] - 48)
                guard e < 1000 else { return nil }
                k += 1
            }
            scale += expNegative ? -e : e
        }
        var value = Double(mantissa)
        if scale != 0 {
            guard abs(scale) <= 22 else { return mantissa == 0 ? (negative ? -0.0 : 0.0) : nil }
            value = scale > 0 ? value * powersOfTen[scale] : value / powersOfTen[-scale]
        }
        return negative ? -value : value
    }

    mutating func string() throws -> String {
        i += 1
        let start = i
        // Fast path: no escapes.
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                let s = UnsafeBufferPointer(rebasing: b[start..<i])
                i += 1
                guard let text = String(validating: s, as: UTF8.self) else { throw error("a string holds bytes that are not UTF-8", at: start) }
                return text
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw error("a control character (byte \(c)) inside a string must be escaped") }
            i += 1
        }
        var out: [UInt8] = Array(b[start..<i])
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                guard let text = String(validating: out, as: UTF8.self) else { throw error("a string holds bytes that are not UTF-8", at: start) }
                return text
            }
            if c < 0x20 { throw error("a control character (byte \(c)) inside a string must be escaped") }
            if c != UInt8(ascii: "\\") {
                out.append(c)
                i += 1
                continue
            }
            i += 1
            guard i < b.count else { break }
            let e = b[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    guard i + 1 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else {
                        throw error("a \\u escape of a high surrogate must be followed by a low one")
                    }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw error("a \\u escape of a high surrogate must be followed by a low one") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw error("a \\u escape holds a lone low surrogate")
                }
                guard let u = Unicode.Scalar(scalar) else { throw error("a \\u escape is not a character") }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default:
                throw error("'\\\(Character(Unicode.Scalar(e)))' is not a JSON escape", at: i - 2)
            }
        }
        throw error("the JSON ends inside a string", at: start - 1)
    }

    mutating func hex4() throws -> UInt32 {
        guard i + 4 <= b.count else { throw error("a \\u escape needs four hex digits") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = b[i]
            let d: UInt32
            switch c {
            case 48...57: d = UInt32(c - 48)
            case 65...70: d = UInt32(c - 55)
            case 97...102: d = UInt32(c - 87)
            default: throw error("a \\u escape needs four hex digits")
            }
            v = v * 16 + d
            i += 1
        }
        return v
    }

    /// What sits at `k`, for messages.
    func describe(_ k: Int) -> String {
        guard k < b.count else { return "the end of the input" }
        let c = b[k]
        if c >= 0x21 && c < 0x7F { return "'\(Character(Unicode.Scalar(c)))'" }
        return "byte 0x\(String(c, radix: 16))"
    }

    /// An error naming the line and column (1-based, counted in bytes) of `k`.
    func error(_ message: String, at k: Int? = nil) -> FlywheelError {
        let pos = min(k ?? i, b.count)
        var line = 1, column = 1
        for c in b[0..<pos] {
            if c == 0x0A {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return FlywheelError.invalidArgument("line \(line), column \(column): \(message)")
    }
}
