import FlywheelCore
import FlywheelData
import FlywheelLearn
import FlywheelMonitoring
import FlywheelRegistry
import FlywheelTesting
import Foundation
import Testing

/// A workspace in memory (or on SQLite) with an iris model registered, and helpers that log
/// traffic the way the server does: the model's real answers to (possibly shifted) records.
struct MonitorFixture {
    let store: any MetadataStore
    let blobs = InMemoryBlobStore()
    var registry: ModelRegistry { ModelRegistry(store: store, blobs: blobs) }
    static let who = Attribution(actor: "test")
    static let features = ["sepal_length", "sepal_width", "petal_length", "petal_width"]

    init(store: any MetadataStore = InMemoryMetadataStore()) { self.store = store }

    static func iris() throws -> Table {
        let url = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil)).appendingPathComponent("iris.csv")
        var text = try String(contentsOf: url, encoding: .utf8)
        text = text.replacingOccurrences(
            of: "sepal length (cm),sepal width (cm),petal length (cm),petal width (cm),target",
            with: "sepal_length,sepal_width,petal_length,petal_width,species")
        return try CSVReader().read(Data(text.utf8))
    }

    /// Trains on `table` and registers the next version of `name`, pointing `alias` at it.
    @discardableResult
    func register(
        _ name: String = "iris", model: String = "random_forest", params: [String: String] = ["n_trees": "10"], table: Table? = nil,
        target: String = "species", alias: String? = "production"
    ) async throws -> (version: Int, bundle: ModelBundle) {
        let t = try table ?? Self.iris()
        let result = try Trainer.train(t, TrainingRequest(target: target, model: model, params: params, seed: 7, testFraction: 0))
        let digest = try await blobs.put(try result.bundle.encoded()).digest
        if try await store.model(named: name) == nil { _ = try await registry.createModel(name: name) }
        let v = try await registry.createVersion(model: name, source: .blob(digest), signature: result.bundle.signatureJSON, by: Self.who)
        if let alias { _ = try await registry.setAlias(alias, model: name, version: v.version, by: Self.who) }
        return (v.version, result.bundle)
    }

    /// `table` with `shift` added to the named numeric columns.
    static func shifted(_ table: Table, _ shift: [String: Double]) throws -> Table {
        try Table(columns: table.columns.map { c in
            guard let s = shift[c.name], case .numeric(let x) = c.storage else { return c }
            return .numeric(c.name, x.map { $0 + s })
        })
    }

    /// Logs every row of `table` as one request to `deployment` answered by `bundle`, spread
    /// evenly over [start, start + span); with `feedback`, each record's label comes back as the
    /// row's target (or, when `wrongLabels`, a different class).
    @discardableResult
    func log(
        _ table: Table, bundle: ModelBundle, model: String = "iris", version: Int, deployment: String = "iris", start: Timestamp, span: Double = 60,
        feedback: Bool = false, wrongLabels: Bool = false
    ) async throws -> [PredictionRecord] {
        let inputs = try table.selecting(columns: bundle.signature.map(\.name))
        let (predictions, _) = try Predictor(bundle: bundle).predict(table: inputs)
        var records: [PredictionRecord] = []
        var labels: [FeedbackLabel] = []
        let target = table.column(named: bundle.target)
        for i in 0..<table.rowCount {
            var f: [String: JSONValue] = [:]
            for c in inputs.columns {
                if case .numeric(let x) = c.storage { f[c.name] = .number(x[i]) }
            }
            var out: [String: JSONValue] = [:]
            let p = predictions[i]
            if let l = p.label { out["label"] = .string(l) }
            if let pr = p.probabilities { out["probabilities"] = .object(pr.mapValues(JSONValue.number)) }
            if let v = p.value { out["value"] = .number(v) }
            let t = Timestamp(millisecondsSince1970: start.millisecondsSince1970 + Int64(span * 1000 * Double(i) / Double(table.rowCount)))
            let id = "\(deployment)-\(start.millisecondsSince1970)-\(i)"
            records.append(PredictionRecord(
                requestID: id, index: 0, time: t, deployment: deployment, model: model, version: version,
                features: f, output: .object(out), latencyMicros: 100))
            if feedback, let target, case .categorical(let codes, let cats) = target.storage, codes[i] >= 0 {
                let truth = cats[Int(codes[i])]
                let label = wrongLabels ? (cats.first { $0 != p.label } ?? truth) : truth
                labels.append(FeedbackLabel(requestID: id, label: .string(label), time: t))
            }
        }
        try await store.appendPredictions(records)
        if !labels.isEmpty { _ = try await store.recordFeedback(labels) }
        return records
    }

    static let now = Timestamp(millisecondsSince1970: 1_795_900_000_000)

    static func minutesBefore(_ m: Double) -> Timestamp {
        Timestamp(millisecondsSince1970: now.millisecondsSince1970 - Int64(m * 60_000))
    }

    static func spec(_ yaml: String) throws -> MonitorSpec {
        let (spec, problems) = MonitorSpec.parse(yaml)
        return try #require(spec, "\(problems)")
    }
}
