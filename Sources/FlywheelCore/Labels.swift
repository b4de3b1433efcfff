/// Key/value labels on any resource (`team=fraud`), which lists filter on with a ``LabelSelector``.
///
/// Keys follow Kubernetes' shape: an optional DNS prefix and `/`, then 1–63 characters of
/// letters, digits, `-`, `_`, `.`, starting and ending alphanumeric. Values are at most 256
/// characters and contain no control characters.
public struct Labels: Hashable, Codable, Sendable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var storage: [String: String]

    public init() { storage = [:] }

    public init(dictionaryLiteral elements: (String, String)...) {
        storage = Dictionary(elements, uniquingKeysWith: { _, b in b })
    }

    /// Validated labels.
    public init(validating dict: [String: String]) throws {
        for (k, v) in dict {
            try Labels.validate(key: k)
            try Labels.validate(value: v, key: k)
        }
        storage = dict
    }

    /// Parses `k=v` pairs as a command line gives them.
    public init(parsingPairs pairs: [String]) throws {
        var dict: [String: String] = [:]
        for pair in pairs {
            guard let eq = pair.firstIndex(of: "=") else {
                throw FlywheelError.invalidArgument("label '\(pair)' is not valid: expected key=value")
            }
            dict[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
        }
        try self.init(validating: dict)
    }

    public subscript(key: String) -> String? {
        get { storage[key] }
        set { storage[key] = newValue }
    }

    public var isEmpty: Bool { storage.isEmpty }
    public var count: Int { storage.count }

    /// Pairs sorted by key.
    public var sorted: [(key: String, value: String)] { storage.sorted { $0.key < $1.key } }

    public func makeIterator() -> Dictionary<String, String>.Iterator { storage.makeIterator() }

    /// `a=1,b=2`, sorted by key.
    public var formatted: String { sorted.map { "\($0.key)=\($0.value)" }.joined(separator: ",") }

    public static func validate(key: String) throws {
        var name = Substring(key)
        if let slash = key.lastIndex(of: "/") {
            let prefix = key[..<slash]
            guard !prefix.isEmpty, prefix.count <= 253,
                prefix.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") })
            else {
                throw FlywheelError.invalidArgument(
                    "label key '\(key)' has an invalid prefix: expected a DNS name before '/'")
            }
            name = key[key.index(after: slash)...]
        }
        let ok =
            !name.isEmpty && name.count <= 63
            && name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") })
            && name.first.map({ $0.isLetter || $0.isNumber }) == true
            && name.last.map({ $0.isLetter || $0.isNumber }) == true
        guard ok else {
            throw FlywheelError.invalidArgument(
                "label key '\(key)' is not valid: expected 1-63 letters, digits, '-', '_' or '.', "
                    + "starting and ending with a letter or digit")
        }
    }

    public static func validate(value: String, key: String) throws {
        guard value.count <= 256, !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw FlywheelError.invalidArgument(
                "label '\(key)' has an invalid value: expected at most 256 characters and no control characters")
        }
    }

    public init(from decoder: any Decoder) throws {
        storage = try decoder.singleValueContainer().decode([String: String].self)
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(storage)
    }
}
