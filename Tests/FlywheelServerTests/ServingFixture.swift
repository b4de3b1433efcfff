import FlywheelCore
import FlywheelData
import FlywheelLearn
import FlywheelRegistry
import FlywheelServing
import FlywheelTesting
import Foundation
import Testing

/// A fresh in-memory workspace with iris models registered, for serving tests.
struct ServingFixture {
    let store = InMemoryMetadataStore()
    let blobs = InMemoryBlobStore()
    var registry: ModelRegistry { ModelRegistry(store: store, blobs: blobs) }
    static let who = Attribution(actor: "test")

    /// The iris fixture with short column names: sepal_length, sepal_width, petal_length, petal_width, species.
    static func iris() throws -> Table {
        let url = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil)).appendingPathComponent("iris.csv")
        var text = try String(contentsOf: url, encoding: .utf8)
        text = text.replacingOccurrences(
            of: "sepal length (cm),sepal width (cm),petal length (cm),petal width (cm),target",
            with: "sepal_length,sepal_width,petal_length,petal_width,species")
        return try CSVReader().read(Data(text.utf8))
    }

    /// Trains `model` on `table` and registers it as the next version of `name`, pointing `alias` at it.
    @discardableResult
    func register(
        _ name: String, model: String = "random_forest", params: [String: String] = ["n_trees": "10"], table: Table? = nil,
        target: String = "species", alias: String? = nil
    ) async throws -> (version: Int, bundle: ModelBundle) {
        let t = try table ?? Self.iris()
        let result = try Trainer.train(t, TrainingRequest(target: target, model: model, params: params, seed: 7, testFraction: 0))
        let data = try result.bundle.encoded()
        let digest = try await blobs.put(data).digest
        if try await store.model(named: name) == nil { _ = try await registry.createModel(name: name) }
        let v = try await registry.createVersion(model: name, source: .blob(digest), signature: result.bundle.signatureJSON, by: Self.who)
        if let alias { _ = try await registry.setAlias(alias, model: name, version: v.version, by: Self.who) }
        return (v.version, result.bundle)
    }

    func deploy(_ yaml: String) async throws {
        let (spec, problems) = DeploymentSpec.parse(yaml)
        let s = try #require(spec, "\(problems)")
        _ = try await store.applyDeployment(name: s.name, spec: yaml, actor: "test", at: SystemWallClock().now())
    }

    static let setosa: [String: JSONValue] = ["sepal_length": .number(5.0), "sepal_width": .number(3.4), "petal_length": .number(1.5), "petal_width": .number(0.2)]
    static let virginica: [String: JSONValue] = ["sepal_length": .number(6.7), "sepal_width": .number(3.0), "petal_length": .number(5.2), "petal_width": .number(2.3)]
}
