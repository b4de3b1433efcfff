import FlywheelCore
import Foundation
import FlywheelLearn
import Testing

@Suite struct KMeansTests {
    @Test func irisInertiaMatchesScikitLearn() throws {
        let all = try LinearFixtures.json("sklearn_reference.json")
        let ref = try #require((all["kmeans"] as? [String: Any])?["iris"] as? [String: Any])
        let inertia = try #require(ref["inertia"] as? Double)
        let k = try #require(ref["k"] as? Int)
        let data = try LinearFixtures.dataset("iris")
        var km = KMeans(hyperparameters: .init(clusterCount: k, initCount: try #require(ref["n_init"] as? Int), seed: 42))
        try km.fit(data.x)
        #expect(km.inertia <= inertia * 1.01, "inertia \(km.inertia) vs scikit-learn \(inertia)")
        // Inertia is the sum of squared distances to the assigned centers.
        var total = 0.0
        for r in 0..<data.x.rows {
            for c in 0..<data.x.columns { total += pow(data.x[r, c] - km.centroids[km.labels[r], c], 2) }
        }
        #expect(abs(total - km.inertia) < 1e-9 * total)
        #expect(km.predict(data.x) == km.labels)
    }

    @Test func sameSeedSameClusteringAndWellSeparatedBlobsAreFound() throws {
        var rng = SeededRandom(seed: 5)
        let centers = [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]]
        let rows = (0..<200).map { i in centers[i % 4].map { $0 + rng.unit() - 0.5 } }
        let x = Matrix(rows)
        var a = KMeans(hyperparameters: .init(clusterCount: 4, initCount: 3, seed: 9))
        var b = a
        try a.fit(x)
        try b.fit(x)
        #expect(a == b)
        // Each blob maps to exactly one cluster.
        for blob in 0..<4 {
            let ids = Set((0..<200).filter { $0 % 4 == blob }.map { a.labels[$0] })
            #expect(ids.count == 1)
        }
        #expect(Set(a.labels).count == 4)
        #expect(a.predict(Matrix([[9.8, 10.1]])) == [a.labels[3]])
    }

    @Test func moreRestartsNeverIncreaseInertia() throws {
        let data = try LinearFixtures.dataset("wine")
        var one = KMeans(hyperparameters: .init(clusterCount: 5, initCount: 1, seed: 1))
        var many = KMeans(hyperparameters: .init(clusterCount: 5, initCount: 8, seed: 1))
        try one.fit(data.x)
        try many.fit(data.x)
        // Start 0 of `many` is the same start as `one`'s only one.
        #expect(many.inertia <= one.inertia)
    }

    @Test func tooFewRowsIsAnError() {
        var km = KMeans(hyperparameters: .init(clusterCount: 3))
        #expect(throws: (any Error).self) { try km.fit(Matrix([[1], [2]])) }
    }
}
