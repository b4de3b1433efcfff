import Foundation
import FlywheelCore
import FlywheelLearn
import Testing

@Suite struct MetricsEdgeTests {
    @Test func rocAUCCountsTiesAsHalf() throws {
        // One positive and one negative share a score: that pair counts ½, the other pairs are ordered.
        let auc = try ClassificationMetrics.rocAUC(yTrue: [0, 1, 0, 1], scores: [0.1, 0.5, 0.5, 0.9])
        #expect(abs(auc - 0.875) < 1e-12)
        // All scores equal: a coin flip.
        #expect(try ClassificationMetrics.rocAUC(yTrue: [0, 1, 1, 0, 1], scores: [0.3, 0.3, 0.3, 0.3, 0.3]) == 0.5)
    }

    @Test func rocAUCNeedsBothClasses() {
        #expect(throws: FlywheelError.self) { try ClassificationMetrics.rocAUC(yTrue: [1, 1, 1], scores: [0.2, 0.4, 0.9]) }
        // A class without rows makes one-vs-rest undefined.
        let p = Matrix([[0.5, 0.3, 0.2], [0.2, 0.5, 0.3]])
        #expect(throws: FlywheelError.self) { try ClassificationMetrics.rocAUC(yTrue: [0, 1], probabilities: p) }
    }

    @Test func binaryAveragingRejectsThreeClasses() {
        #expect(throws: FlywheelError.self) {
            try ClassificationMetrics.f1(yTrue: [0, 1, 2], yPred: [0, 1, 2], average: .binary)
        }
    }

    @Test func logLossClipsCertainMistakes() throws {
        let p = Matrix([[1, 0], [0, 1]])
        let loss = try ClassificationMetrics.logLoss(yTrue: [1, 1], probabilities: p)
        // One row is certain and right (≈ ε), one certain and wrong: −log ε / 2.
        #expect(abs(loss - (-log(Double.ulpOfOne) + Double.ulpOfOne) / 2) < 1e-9)
        #expect(loss.isFinite)
    }
}
