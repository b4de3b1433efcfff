import FlywheelCore
import FlywheelData

/// One raw input value of a record, as serving receives it.
public enum FeatureValue: Hashable, Codable, Sendable {
    case number(Double)
    case string(String)
    case bool(Bool)
    case missing
}

/// The settings of a ``Preprocessor``.
public struct PreprocessingOptions: Hashable, Codable, Sendable {
    public var numericImpute: ImputeStrategy = .median
    public var scaling: Scaling = .standard
    public var categorical: CategoricalEncoding = .oneHot
    public init(numericImpute: ImputeStrategy = .median, scaling: Scaling = .standard, categorical: CategoricalEncoding = .oneHot) {
        self.numericImpute = numericImpute
        self.scaling = scaling
        self.categorical = categorical
    }
}

/// The column transformer: turns a ``Table`` (or raw records) into the feature ``Matrix`` with
/// exactly the transformations fitted on the training data, so serving cannot skew from training.
///
/// Numeric and boolean columns are imputed then scaled; categorical columns are encoded (one-hot
/// or ordinal). Missing categorical values encode as all zeros (one-hot) or NaN (ordinal).
public struct Preprocessor: Hashable, Codable, Sendable {
    public struct Input: Hashable, Codable, Sendable {
        public var name: String
        public var type: ColumnType
        public var imputer: Imputer?
        public var scaler: Scaler?
        public var encoder: CategoryEncoder?
    }

    public var options: PreprocessingOptions
    public private(set) var inputs: [Input]

    /// Fits on `table`'s columns named `features`.
    public init(fitting table: Table, features: [String], options: PreprocessingOptions = .init()) throws {
        self.options = options
        inputs = try features.map { name in
            let col = try table.requireColumn(name)
            var input = Input(name: name, type: col.type)
            switch col.storage {
            case .numeric(let v):
                var imp = Imputer(strategy: options.numericImpute)
                imp.fit(v)
                var sc = Scaler(options.scaling)
                sc.fit(v.map(imp.transform))
                input.imputer = imp
                input.scaler = sc
            case .boolean(let b):
                let v = b.map { $0 > 1 ? Double.nan : Double($0) }
                var imp = Imputer(strategy: .mostFrequent)
                imp.fit(v)
                input.imputer = imp
            case .categorical:
                var enc = CategoryEncoder(options.categorical)
                enc.fit((0..<col.count).map { col.text($0) })
                input.encoder = enc
            }
            return input
        }
    }

    /// Names of the output columns (`city=Oslo` for one-hot columns).
    public var featureNames: [String] {
        inputs.flatMap { i -> [String] in
            guard let enc = i.encoder, enc.encoding == .oneHot else { return [i.name] }
            return enc.categories.map { "\(i.name)=\($0)" }
        }
    }

    public var width: Int { inputs.reduce(0) { $0 + ($1.encoder?.width ?? 1) } }

    /// The feature matrix of `table`, and how many values of each categorical column were not
    /// seen in training.
    public func transform(_ table: Table) throws -> (matrix: Matrix, unseen: [String: Int]) {
        var m = Matrix(rows: table.rowCount, columns: width)
        var unseen: [String: Int] = [:]
        var offset = 0
        for input in inputs {
            let col = try table.requireColumn(input.name)
            guard Self.compatible(col.type, input.type) else {
                throw FlywheelError.invalidArgument(
                    "column '\(input.name)' is \(col.type.rawValue) but the model was trained on \(input.type.rawValue)")
            }
            switch (input.encoder, col.storage) {
            case (let enc?, _):
                let codes = (0..<table.rowCount).map { r -> Int? in
                    let text = col.text(r)
                    let c = enc.code(text)
                    if c == nil, text != nil { unseen[input.name, default: 0] += 1 }
                    return c
                }
                for (r, c) in codes.enumerated() {
                    if enc.encoding == .oneHot {
                        if let c { m[r, offset + c] = 1 }
                    } else {
                        m[r, offset] = c.map(Double.init) ?? .nan
                    }
                }
            case (nil, .numeric(let v)):
                for (r, x) in v.enumerated() { m[r, offset] = apply(input, x) }
            case (nil, .boolean(let b)):
                for (r, x) in b.enumerated() { m[r, offset] = apply(input, x > 1 ? .nan : Double(x)) }
            case (nil, .categorical):
                throw FlywheelError.invalidArgument("column '\(input.name)' holds text but the model was trained on numbers")
            }
            offset += input.encoder?.width ?? 1
        }
        return (m, unseen)
    }

    func apply(_ input: Input, _ x: Double) -> Double {
        let filled = input.imputer?.transform(x) ?? x
        return input.scaler?.transform(filled) ?? filled
    }

    static func compatible(_ actual: ColumnType, _ trained: ColumnType) -> Bool {
        actual == trained || trained == .categorical || (actual == .numeric && trained == .boolean)
    }

    /// Encodes one record's values into `out` (length ``width``), checking each against the
    /// training signature. Errors name the field.
    public func transform(record: [String: FeatureValue], into out: inout [Double]) throws {
        var offset = 0
        for input in inputs {
            let value = record[input.name] ?? .missing
            if record[input.name] == nil {
                throw FlywheelError.invalidArgument("field '\(input.name)' is missing: the model needs it (\(input.type.rawValue))")
            }
            if let enc = input.encoder {
                let text: String?
                switch value {
                case .string(let s): text = s
                case .missing: text = nil
                case .number(let d): text = NumberFormatting.shortest(d)
                case .bool(let b): text = b ? "true" : "false"
                }
                let code = enc.code(text)
                if enc.encoding == .oneHot {
                    for j in 0..<enc.width { out[offset + j] = 0 }
                    if let code { out[offset + code] = 1 }
                } else {
                    out[offset] = code.map(Double.init) ?? .nan
                }
            } else {
                let x: Double
                switch value {
                case .number(let d):
                    guard d.isFinite else { throw FlywheelError.invalidArgument("field '\(input.name)' is \(d): expected a finite number") }
                    x = d
                case .bool(let b): x = b ? 1 : 0
                case .missing: x = .nan
                case .string(let s):
                    throw FlywheelError.invalidArgument("field '\(input.name)' is the string \"\(s.prefix(40))\": expected \(input.type == .boolean ? "true or false" : "a number")")
                }
                if input.type == .boolean, case .number(let d) = value, d != 0, d != 1 {
                    throw FlywheelError.invalidArgument("field '\(input.name)' is \(NumberFormatting.shortest(d)): expected true or false")
                }
                out[offset] = apply(input, x)
            }
            offset += input.encoder?.width ?? 1
        }
    }
}
