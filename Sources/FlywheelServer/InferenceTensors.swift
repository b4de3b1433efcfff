import FlywheelCore
import FlywheelData
import FlywheelLearn
import FlywheelServing

/// Converts Open Inference Protocol tensors to records and answers back to tensors.
enum InferenceTensors {
    static let numericTypes: Set<String> = ["UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64"]
    static let allTypes = numericTypes.union(["BOOL", "BYTES"])

    struct Tensor {
        var name: String
        var shape: [Int]
        var datatype: String
        var data: [JSONValue]
    }

    static func tensors(_ body: JSONValue) throws -> [Tensor] {
        guard case .object = body else { throw FlywheelError.invalidArgument("the body must be a JSON object with 'inputs'") }
        guard case .array(let inputs)? = body["inputs"], !inputs.isEmpty else {
            throw FlywheelError.invalidArgument("'inputs' must be a non-empty list of tensors {name, shape, datatype, data}")
        }
        return try inputs.enumerated().map { i, t in
            guard case .string(let name)? = t["name"], !name.isEmpty else { throw FlywheelError.invalidArgument("inputs[\(i)]: missing 'name'") }
            let at = "inputs[\(i)] ('\(name)')"
            guard case .string(let dt)? = t["datatype"] else { throw FlywheelError.invalidArgument("\(at): missing 'datatype'") }
            guard allTypes.contains(dt) else {
                throw FlywheelError.invalidArgument("\(at): datatype '\(dt)' is not one of \(allTypes.sorted().joined(separator: ", "))")
            }
            guard case .array(let shapeValues)? = t["shape"], !shapeValues.isEmpty else {
                throw FlywheelError.invalidArgument("\(at): 'shape' must be a list of sizes like [N] or [N, F]")
            }
            let shape = try shapeValues.map { v -> Int in
                guard case .number(let d) = v, d >= 0, d == d.rounded(), d < 1e9 else {
                    throw FlywheelError.invalidArgument("\(at): 'shape' must hold whole numbers ≥ 0")
                }
                return Int(d)
            }
            guard let raw = t["data"] else { throw FlywheelError.invalidArgument("\(at): missing 'data'") }
            var flat: [JSONValue] = []
            flatten(raw, into: &flat)
            let expected = shape.reduce(1, *)
            guard flat.count == expected else {
                throw FlywheelError.invalidArgument("\(at): shape \(shape) holds \(expected) values but 'data' has \(flat.count)")
            }
            return Tensor(name: name, shape: shape, datatype: dt, data: flat)
        }
    }

    static func flatten(_ v: JSONValue, into out: inout [JSONValue]) {
        if case .array(let a) = v { for x in a { flatten(x, into: &out) } } else { out.append(v) }
    }

    /// Records (field → value) from the request's tensors.
    static func records(from body: JSONValue, signature: [SignatureField]) throws -> [[String: JSONValue]] {
        let ts = try tensors(body)
        let byName = Dictionary(signature.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        if ts.count == 1, byName[ts[0].name] == nil, ts[0].shape.count == 2 {
            return try matrix(ts[0], signature: signature)
        }
        var n: Int?
        var columns: [(SignatureField, [JSONValue])] = []
        for t in ts {
            guard let f = byName[t.name] else {
                throw FlywheelError.invalidArgument(
                    "input '\(t.name)' is not an input of this model (inputs: \(signature.map(\.name).joined(separator: ", "))); "
                        + "send one tensor per feature, or one [N, \(signature.count)] tensor")
            }
            guard t.shape.count == 1 || (t.shape.count == 2 && t.shape[1] == 1) else {
                throw FlywheelError.invalidArgument("input '\(t.name)': shape \(t.shape) should be [N] or [N, 1] for one feature")
            }
            if let n, n != t.shape[0] {
                throw FlywheelError.invalidArgument("input '\(t.name)' has \(t.shape[0]) rows but an earlier input has \(n)")
            }
            n = t.shape[0]
            try check(t.datatype, for: f, input: t.name)
            columns.append((f, t.data))
        }
        let rows = n ?? 0
        guard rows > 0 else { throw FlywheelError.invalidArgument("the inputs hold no rows") }
        var out = [[String: JSONValue]](repeating: [:], count: rows)
        for (f, data) in columns {
            for r in 0..<rows { out[r][f.name] = try element(data[r], f, input: f.name, row: r) }
        }
        return out
    }

    static func matrix(_ t: Tensor, signature: [SignatureField]) throws -> [[String: JSONValue]] {
        let (rows, width) = (t.shape[0], t.shape[1])
        guard width == signature.count else {
            throw FlywheelError.invalidArgument(
                "input '\(t.name)': shape [\(rows), \(width)] needs \(signature.count) columns, one per input in this order: "
                    + signature.map(\.name).joined(separator: ", "))
        }
        for f in signature { try check(t.datatype, for: f, input: t.name) }
        var out: [[String: JSONValue]] = []
        out.reserveCapacity(rows)
        for r in 0..<rows {
            var rec: [String: JSONValue] = [:]
            for (c, f) in signature.enumerated() { rec[f.name] = try element(t.data[r * width + c], f, input: t.name, row: r) }
            out.append(rec)
        }
        return out
    }

    static func check(_ datatype: String, for f: SignatureField, input: String) throws {
        let ok = switch f.type {
        case .numeric: numericTypes.contains(datatype)
        case .categorical: datatype == "BYTES"
        case .boolean: datatype == "BOOL"
        }
        guard ok else {
            let want = switch f.type {
            case .numeric: "a numeric datatype (FP64, FP32, INT64, INT32, …)"
            case .categorical: "BYTES"
            case .boolean: "BOOL"
            }
            throw FlywheelError.invalidArgument("input '\(input)': datatype \(datatype) does not fit field '\(f.name)' (\(f.type.rawValue)): expected \(want)")
        }
    }

    static func element(_ v: JSONValue, _ f: SignatureField, input: String, row: Int) throws -> JSONValue {
        switch (f.type, v) {
        case (.numeric, .number), (.categorical, .string), (.boolean, .bool), (_, .null): return v
        default:
            throw FlywheelError.invalidArgument("record \(row): field '\(f.name)' (input '\(input)') holds \(v), which does not match its datatype")
        }
    }

    /// The answers as output tensors: `label` (BYTES) and `probabilities` (FP64, [N, classes]) for
    /// a classifier, `value` (FP64) for a regressor.
    static func response(_ r: PredictionResult, classes: [String]?) -> [UInt8] {
        let n = r.answers.count
        var outputs: [JSONValue] = []
        if r.answers.contains(where: { $0.label != nil }) {
            outputs.append(.object([
                "name": .string("label"), "datatype": .string("BYTES"), "shape": .array([.number(Double(n))]),
                "data": .array(r.answers.map { $0.label.map(JSONValue.string) ?? .null }),
            ]))
            if let classes {
                var flat: [JSONValue] = []
                flat.reserveCapacity(n * classes.count)
                for a in r.answers { for c in classes { flat.append(.number(a.probabilities?[c] ?? 0)) } }
                outputs.append(.object([
                    "name": .string("probabilities"), "datatype": .string("FP64"),
                    "shape": .array([.number(Double(n)), .number(Double(classes.count))]), "data": .array(flat),
                    "parameters": .object(["classes": .array(classes.map(JSONValue.string))]),
                ]))
            }
        } else if r.answers.contains(where: { $0.value != nil }) {
            outputs.append(.object([
                "name": .string("value"), "datatype": .string("FP64"), "shape": .array([.number(Double(n))]),
                "data": .array(r.answers.map { $0.value.map(JSONValue.number) ?? .null }),
            ]))
        } else {
            outputs.append(.object([
                "name": .string("answer"), "datatype": .string("BYTES"), "shape": .array([.number(Double(n))]),
                "data": .array(r.answers.map(\.json)),
            ]))
        }
        outputs.append(.object([
            "name": .string("needs_review"), "datatype": .string("BOOL"), "shape": .array([.number(Double(n))]),
            "data": .array(r.answers.map { .bool($0.needsReview) }),
        ]))
        var w = JSONWriter()
        w.object([
            ("model_name", .string(r.deployment)), ("model_version", .string(String(r.version))), ("id", .string(r.requestID)),
            ("outputs", .array(outputs)),
        ])
        return w.bytes
    }
}
