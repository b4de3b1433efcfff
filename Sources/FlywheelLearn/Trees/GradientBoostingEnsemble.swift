import FlywheelCore
import Foundation

/// The fitted state shared by both gradient-boosting estimators: a baseline per output and,
/// per iteration, one regression tree per output whose leaf values add to the raw prediction.
public struct GradientBoostingEnsemble: Codable, Sendable, Hashable {
    /// Raw prediction before any tree: log-odds prior, class log-priors or the mean target.
    public var baseline: [Double]
    /// `trees[iteration][output]`.
    public var trees: [[TreeNodes]]
    /// Features seen by `fit`.
    public var featureCount: Int

    /// Iterations kept (fewer than `maxIterations` when early stopping fired).
    public var iterationCount: Int { trees.count }

    /// Whether every iteration holds one single-valued tree per output, as `fit` grows them.
    var isRectangular: Bool {
        trees.allSatisfy { iteration in iteration.count == baseline.count && iteration.allSatisfy { $0.outputCount == 1 } }
    }

    /// Writes the raw prediction of one row into `out` (`baseline.count` values) without allocating.
    ///
    /// The plain walk, tree by tree; the estimators predict through a packed copy of the trees
    /// that gives the same values faster.
    public func raw(row: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>) {
        for k in baseline.indices { out[k] = baseline[k] }
        trees.withUnsafeBufferPointer { iterations in
            for i in iterations.indices {
                iterations[i].withUnsafeBufferPointer { outputs in
                    for k in outputs.indices { out[k] += outputs[k].values[outputs[k].leaf(for: row)] }
                }
            }
        }
    }
}

/// What boosting minimizes; gives gradients, hessians, baselines and validation losses on raw scores.
enum BoostingLoss {
    case squaredError
    case binaryLogLoss
    case softmax(classes: Int)

    var outputs: Int {
        if case .softmax(let k) = self { return k }
        return 1
    }

    /// Every hessian is 1, so trees can count rows instead of summing hessians.
    var hasConstantHessian: Bool {
        if case .squaredError = self { return true }
        return false
    }

    func baseline(_ y: [Double], rows: [Int32]) -> [Double] {
        switch self {
        case .squaredError:
            return [rows.reduce(0) { $0 + y[Int($1)] } / Double(rows.count)]
        case .binaryLogLoss:
            let p = min(max(rows.reduce(0) { $0 + y[Int($1)] } / Double(rows.count), 1e-12), 1 - 1e-12)
            return [Foundation.log(p / (1 - p))]
        case .softmax(let k):
            var counts = [Double](repeating: 0, count: k)
            for r in rows { counts[Int(y[Int(r)])] += 1 }
            return counts.map { Foundation.log(max($0 / Double(rows.count), 1e-12)) }
        }
    }

    /// Class probabilities (softmax of `raw`, both row-major) of the rows in `rows`, for the softmax loss.
    func probabilities(raw: UnsafePointer<Double>, rows: Range<Int>, into p: UnsafeMutablePointer<Double>) {
        guard case .softmax(let m) = self else { return }
        for r in rows {
            var top = -Double.infinity
            for j in 0..<m { top = max(top, raw[r * m + j]) }
            var sum = 0.0
            for j in 0..<m { let e = Foundation.exp(raw[r * m + j] - top); p[r * m + j] = e; sum += e }
            for j in 0..<m { p[r * m + j] /= sum }
        }
    }

    /// Gradients and hessians for output `k` of the rows in `rows` (hessians untouched when constant).
    /// `raw` is row-major with `outputs` values per row; `probabilities` comes from `probabilities(raw:rows:into:)`.
    func derivatives(output k: Int, y: UnsafePointer<Double>, raw: UnsafePointer<Double>, probabilities: UnsafePointer<Double>,
                     rows: Range<Int>, gradients: UnsafeMutablePointer<Double>, hessians: UnsafeMutablePointer<Double>) {
        switch self {
        case .squaredError:
            for r in rows { gradients[r] = raw[r] - y[r] }
        case .binaryLogLoss:
            for r in rows {
                let p = 1 / (1 + Foundation.exp(-raw[r]))
                gradients[r] = p - y[r]
                hessians[r] = p * (1 - p)
            }
        case .softmax(let m):
            for r in rows {
                let p = probabilities[r * m + k]
                gradients[r] = p - (Int(y[r]) == k ? 1 : 0)
                hessians[r] = p * (1 - p)
            }
        }
    }

    /// Mean loss over rows of a row-major raw matrix.
    func loss(raw: [Double], y: [Double]) -> Double {
        let m = outputs
        var total = 0.0
        for r in y.indices {
            switch self {
            case .squaredError:
                total += 0.5 * (raw[r] - y[r]) * (raw[r] - y[r])
            case .binaryLogLoss:
                let z = raw[r]
                total += max(z, 0) + Foundation.log1p(Foundation.exp(-abs(z))) - y[r] * z
            case .softmax:
                var top = -Double.infinity
                for j in 0..<m { top = max(top, raw[r * m + j]) }
                var sum = 0.0
                for j in 0..<m { sum += Foundation.exp(raw[r * m + j] - top) }
                total += top + Foundation.log(sum) - raw[r * m + Int(y[r])]
            }
        }
        return total / Double(max(y.count, 1))
    }
}

extension GradientBoostingEnsemble {
    /// Boosts trees on `x`, `y` (class index as a Double for classification).
    /// `strata` (class indices) stratifies the validation split when early stopping is on.
    static func fit(_ x: Matrix, _ y: [Double], loss: BoostingLoss, strata: [Int]?,
                    params: HistGradientBoostingHyperparameters, threads: Int?) -> GradientBoostingEnsemble {
        let n = x.rows
        let m = loss.outputs
        // Validation split for early stopping.
        var trainRows = [Int32](), validationRows = [Int]()
        if params.usesEarlyStopping(rows: n) {
            var random = SeededRandom(seed: params.seed)
            let groups = Dictionary(grouping: 0..<n) { strata?[$0] ?? 0 }
            for key in groups.keys.sorted() {
                var members = groups[key] ?? []
                members.shuffle(using: &random)
                let held = Int((params.validationFraction * Double(members.count)).rounded(.up))
                validationRows += members.prefix(min(held, members.count - 1))
                trainRows += members.dropFirst(min(held, members.count - 1)).map { Int32($0) }
            }
            trainRows.sort()
            validationRows.sort()
        } else {
            trainRows = (0..<n).map { Int32($0) }
        }
        // Bins are learned on training rows only, and trees grow on them alone.
        let trainMatrix = validationRows.isEmpty ? x : x.selecting(rows: trainRows.map { Int($0) })
        let trainY = validationRows.isEmpty ? y : trainRows.map { y[Int($0)] }
        let t = trainMatrix.rows
        let threadCount = max(1, threads ?? ProcessorCount.active)
        let (binner, bins) = FeatureBinner.fitted(trainMatrix, maxBins: params.maxBins, threads: threadCount)
        let grower = HistogramTreeGrower(bins: bins, rowCount: t, featureCount: x.columns, binner: binner, params: params,
                                         threads: threadCount, constantHessian: loss.hasConstantHessian)

        let baseline = loss.baseline(y, rows: trainRows)
        var raw = [Double](repeating: 0, count: t * m)
        for r in 0..<t { for k in 0..<m { raw[r * m + k] = baseline[k] } }
        var gradients = [Double](repeating: 0, count: t)
        var hessians = [Double](repeating: 1, count: t)
        var probabilities = [Double](repeating: 0, count: m > 1 ? t * m : 1)
        let validationY = validationRows.map { y[$0] }
        var validationRaw = [Double]()
        for _ in validationRows { validationRaw += baseline }
        var scores = [-loss.loss(raw: validationRaw, y: validationY)]
        var ensemble = GradientBoostingEnsemble(baseline: baseline, trees: [], featureCount: x.columns)

        for _ in 0..<params.maxIterations {
            var iteration = [TreeNodes]()
            trainY.withUnsafeBufferPointer { yBuffer in
                raw.withUnsafeMutableBufferPointer { rawBuffer in
                    gradients.withUnsafeMutableBufferPointer { gradientBuffer in
                        hessians.withUnsafeMutableBufferPointer { hessianBuffer in
                            probabilities.withUnsafeMutableBufferPointer { probabilityBuffer in
                                // invariant: every buffer holds at least one value (t ≥ 1 training row).
                                guard let yb = yBuffer.baseAddress, let rb = rawBuffer.baseAddress,
                                      let gb = gradientBuffer.baseAddress, let hb = hessianBuffer.baseAddress,
                                      let pb = probabilityBuffer.baseAddress else { return }
                                let b = BoostingBuffers(y: yb, raw: rb, gradients: gb, hessians: hb, probabilities: pb)
                                // Every class's gradients use the previous iteration's scores.
                                if m > 1 {
                                    forEachRowChunk(t, threads: threadCount) { range in
                                        loss.probabilities(raw: b.raw, rows: range, into: b.probabilities)
                                    }
                                }
                                for k in 0..<m {
                                    forEachRowChunk(t, threads: threadCount) { range in
                                        loss.derivatives(output: k, y: b.y, raw: b.raw, probabilities: b.probabilities, rows: range,
                                                         gradients: b.gradients, hessians: b.hessians)
                                    }
                                    let (tree, leaves) = grower.grow(gradients: gb, hessians: hb)
                                    grower.addLeafValues(tree, leaves, to: rb, stride: m, offset: k)
                                    iteration.append(tree)
                                }
                            }
                        }
                    }
                }
            }
            ensemble.trees.append(iteration)
            guard !validationRows.isEmpty else { continue }
            for (i, r) in validationRows.enumerated() {
                let row = x.row(r)
                for k in 0..<m { validationRaw[i * m + k] += iteration[k].values[iteration[k].leaf(for: row)] }
            }
            scores.append(-loss.loss(raw: validationRaw, y: validationY))
            let window = params.iterationsWithoutChange
            if scores.count > window {
                let reference = scores[scores.count - window - 1] + params.tolerance
                if !scores.suffix(window).contains(where: { $0 > reference }) { break }
            }
        }
        return ensemble
    }
}

/// The boosting loop's per-row arrays, shared with `forEachRowChunk` workers.
///
/// `@unchecked Sendable`: used only inside the owning arrays' `withUnsafe…` scopes, and each
/// worker writes its own rows.
private struct BoostingBuffers: @unchecked Sendable {
    let y: UnsafePointer<Double>
    let raw: UnsafeMutablePointer<Double>
    let gradients: UnsafeMutablePointer<Double>
    let hessians: UnsafeMutablePointer<Double>
    let probabilities: UnsafeMutablePointer<Double>
}
