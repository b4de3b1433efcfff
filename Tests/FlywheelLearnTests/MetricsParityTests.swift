import Foundation
import FlywheelLearn
import Testing

/// Every metric against scikit-learn's value on the same predictions (scripts/make_metric_fixtures.py).
@Suite struct MetricsParityTests {
    static let tolerance = 1e-9

    static func cases() throws -> [[String: Any]] {
        try #require(LinearFixtures.json("metric_cases.json")["classification"] as? [[String: Any]])
    }

    static func classificationCaseNames() -> [String] {
        ((try? cases()) ?? []).compactMap { $0["name"] as? String }
    }

    @Test func fixturesCoverTheAgreedCases() throws {
        let names = Set(try Self.cases().compactMap { $0["name"] as? String })
        for needed in ["binary_ties", "three_class_imbalanced", "five_class_never_predicted", "perfect", "all_wrong", "predicted_class_never_true"] {
            #expect(names.contains(needed), "missing case \(needed)")
        }
    }

    @Test(arguments: classificationCaseNames())
    func classification(name: String) throws {
        let c = try #require(try Self.cases().first { $0["name"] as? String == name })
        let yTrue = try #require(c["y_true"] as? [Int])
        let yPred = try #require(c["y_pred"] as? [Int])
        let k = try #require(c["classes"] as? Int)
        let expected = try #require(c["expected"] as? [String: Any])
        func value(_ key: String) throws -> Double { try #require(expected[key] as? Double, "no \(key)") }
        var checked = 0
        func check(_ key: String, _ actual: Double) throws {
            let want = try value(key)
            #expect(abs(actual - want) <= Self.tolerance, "\(name) \(key): \(actual) vs scikit-learn \(want)")
            checked += 1
        }

        try check("accuracy", ClassificationMetrics.accuracy(yTrue: yTrue, yPred: yPred))
        try check("balanced_accuracy", ClassificationMetrics.balancedAccuracy(yTrue: yTrue, yPred: yPred))
        for (key, avg) in [("micro", Averaging.micro), ("macro", .macro), ("weighted", .weighted)] {
            let s = try ClassificationMetrics.scores(yTrue: yTrue, yPred: yPred, average: avg)
            try check("precision_\(key)", s.precision)
            try check("recall_\(key)", s.recall)
            try check("f1_\(key)", s.f1)
            try check("f1_\(key)", ClassificationMetrics.f1(yTrue: yTrue, yPred: yPred, average: avg))
        }
        if expected["f1_binary_pos1"] != nil {
            for pos in [0, 1] {
                let s = try ClassificationMetrics.scores(yTrue: yTrue, yPred: yPred, average: .binary, positiveLabel: pos)
                try check("precision_binary_pos\(pos)", s.precision)
                try check("recall_binary_pos\(pos)", s.recall)
                try check("f1_binary_pos\(pos)", s.f1)
            }
        }
        let cm = ConfusionMatrix(yTrue: yTrue, yPred: yPred, labels: Array(0..<k))
        #expect(cm.counts == (expected["confusion_matrix"] as? [[Int]]))
        if let rows = c["probabilities"] as? [[Double]] {
            let p = Matrix(rows)
            try check("log_loss", ClassificationMetrics.logLoss(yTrue: yTrue, probabilities: p))
            if expected["roc_auc"] != nil {
                try check("roc_auc", ClassificationMetrics.rocAUC(yTrue: yTrue, scores: rows.map { $0[1] }))
                try check("roc_auc", ClassificationMetrics.rocAUC(yTrue: yTrue, probabilities: p))
            }
            if expected["roc_auc_ovr_macro"] != nil {
                try check("roc_auc_ovr_macro", ClassificationMetrics.rocAUC(yTrue: yTrue, probabilities: p, average: .macro))
                try check("roc_auc_ovr_weighted", ClassificationMetrics.rocAUC(yTrue: yTrue, probabilities: p, average: .weighted))
            }
        }
        #expect(checked >= 11)
    }

    @Test func regression() throws {
        let cases = try #require(LinearFixtures.json("metric_cases.json")["regression"] as? [[String: Any]])
        #expect(cases.count >= 4)
        for c in cases {
            let name = c["name"] as? String ?? "?"
            let yt = try #require(c["y_true"] as? [Double])
            let yp = try #require(c["y_pred"] as? [Double])
            let e = try #require(c["expected"] as? [String: Double])
            let got: [String: Double] = [
                "mse": RegressionMetrics.meanSquaredError(yTrue: yt, yPred: yp),
                "rmse": RegressionMetrics.rootMeanSquaredError(yTrue: yt, yPred: yp),
                "mae": RegressionMetrics.meanAbsoluteError(yTrue: yt, yPred: yp),
                "r2": RegressionMetrics.r2(yTrue: yt, yPred: yp),
            ]
            for (key, v) in got {
                let want = try #require(e[key])
                #expect(abs(v - want) <= Self.tolerance, "\(name) \(key): \(v) vs scikit-learn \(want)")
            }
        }
    }
}
