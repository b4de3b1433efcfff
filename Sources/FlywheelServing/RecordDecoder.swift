import FlywheelCore
import FlywheelData
import FlywheelLearn
import Foundation

extension FlywheelError.Code {
    /// The body is over the server's size limit (HTTP 413).
    public static let payloadTooLarge = Self("payload_too_large")
    /// The body's content type is not one the endpoint reads (HTTP 415).
    public static let unsupportedMediaType = Self("unsupported_media_type")
    /// The answer did not come within the deployment's deadline (HTTP 504).
    public static let deadlineExceeded = Self("deadline_exceeded")
}

/// Turns request JSON into records the model reads, checking each against the model's signature:
/// a missing or extra field, a wrong type, a non-finite number or (when the deployment says so)
/// an unseen category is an `invalid_argument` error naming the record index and the field.
public struct RecordDecoder: Sendable {
    public let signature: [SignatureField]
    public let target: String
    public let unseen: DeploymentSpec.UnseenCategories
    private let fields: [String: (index: Int, type: ColumnType, categories: Set<String>?)]

    public init(bundle: ModelBundle, unseen: DeploymentSpec.UnseenCategories) {
        signature = bundle.signature
        target = bundle.target
        self.unseen = unseen
        var f: [String: (Int, ColumnType, Set<String>?)] = [:]
        for (i, s) in bundle.signature.enumerated() { f[s.name] = (i, s.type, s.categories.map(Set.init)) }
        fields = f
    }

    /// Parses a JSON body: one object, or an array of objects.
    public static func parseBody(_ data: Data) throws -> (records: [[String: JSONValue]], single: Bool) {
        let value: JSONValue
        do { value = try JSONValue(parsing: data) } catch let e as FlywheelError {
            throw FlywheelError.invalidArgument("the body is not valid JSON: \(e.message)")
        }
        switch value {
        case .object(let o): return ([o], true)
        case .array(let items):
            guard !items.isEmpty else { throw FlywheelError.invalidArgument("the body is an empty array: send at least one record") }
            var out: [[String: JSONValue]] = []
            out.reserveCapacity(items.count)
            for (i, item) in items.enumerated() {
                guard case .object(let o) = item else {
                    throw FlywheelError.invalidArgument("record \(i): expected a JSON object of field → value, got \(kind(item))")
                }
                out.append(o)
            }
            return (out, false)
        default:
            throw FlywheelError.invalidArgument("the body must be a JSON object (one record) or an array of objects, got \(kind(value))")
        }
    }

    /// Checks and converts records; errors name the record index and field.
    public func records(_ raw: [[String: JSONValue]]) throws -> [[String: FeatureValue]] {
        var out: [[String: FeatureValue]] = []
        out.reserveCapacity(raw.count)
        for (i, r) in raw.enumerated() {
            var rec: [String: FeatureValue] = [:]
            rec.reserveCapacity(signature.count)
            for (name, v) in r {
                guard let f = fields[name] else {
                    if name == target { continue }
                    let expected = signature.map(\.name).joined(separator: ", ")
                    throw FlywheelError.invalidArgument("record \(i): field '\(name)' is not an input of this model (inputs: \(expected))")
                }
                rec[name] = try feature(v, type: f.type, categories: f.categories, field: name, record: i)
            }
            if rec.count < signature.count {
                let missing = signature.first { rec[$0.name] == nil }!  // invariant: fewer known fields than the signature means one is absent
                throw FlywheelError.invalidArgument("record \(i): missing field '\(missing.name)' (\(missing.type.rawValue))")
            }
            out.append(rec)
        }
        return out
    }

    func feature(_ v: JSONValue, type: ColumnType, categories: Set<String>?, field: String, record i: Int) throws -> FeatureValue {
        switch (type, v) {
        case (_, .null): return .missing
        case (.numeric, .number(let d)):
            guard d.isFinite else { throw FlywheelError.invalidArgument("record \(i): field '\(field)' is \(d): expected a finite number") }
            return .number(d)
        case (.numeric, .string(let s)) where ["nan", "inf", "-inf", "infinity", "-infinity", "+inf"].contains(s.lowercased()):
            throw FlywheelError.invalidArgument("record \(i): field '\(field)' is \(s): expected a finite number")
        case (.boolean, .bool(let b)): return .bool(b)
        case (.categorical, .string(let s)):
            if unseen == .reject, let categories, !categories.contains(s) {
                let known = categories.sorted().prefix(10).joined(separator: ", ")
                throw FlywheelError.invalidArgument(
                    "record \(i): field '\(field)' has category '\(s)', unseen in training (known: \(known)\(categories.count > 10 ? ", …" : ""))")
            }
            return .string(s)
        default:
            let expected = switch type {
            case .numeric: "a number"
            case .categorical: "a string (category)"
            case .boolean: "true or false"
            }
            throw FlywheelError.invalidArgument("record \(i): field '\(field)' is \(Self.kind(v)): expected \(expected)")
        }
    }

    static func kind(_ v: JSONValue) -> String {
        switch v {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
