import FlywheelCore
import Foundation

/// k-means clustering (Lloyd's algorithm) with greedy k-means++ seeding and restarts.
///
/// Each of `initCount` runs starts from k-means++ centers drawn from its own generator derived
/// from `seed`, iterates until the centers move less than `tolerance` (relative to the mean
/// feature variance, as scikit-learn scales it) or the assignment stops changing, and the run
/// with the lowest inertia is kept. The same data and seed always give the same clustering.
///
/// ```swift
/// var km = KMeans(hyperparameters: .init(clusterCount: 3, seed: 42))
/// try km.fit(x)
/// let cluster = km.predict(xNew)
/// ```
public struct KMeans: Codable, Hashable, Sendable {
    /// Settings of k-means.
    public struct Hyperparameters: Codable, Hashable, Sendable {
        /// The number of clusters, k.
        public var clusterCount: Int
        /// Independent k-means++ starts; the one with the lowest inertia wins.
        public var initCount: Int
        /// Upper bound on Lloyd iterations per start.
        public var maxIterations: Int
        /// Convergence threshold on the summed squared center shift, times the mean feature variance.
        public var tolerance: Double
        /// Fixes every random choice.
        public var seed: UInt64

        public init(clusterCount: Int = 8, initCount: Int = 10, maxIterations: Int = 300, tolerance: Double = 1e-4, seed: UInt64 = 0) {
            self.clusterCount = clusterCount
            self.initCount = initCount
            self.maxIterations = maxIterations
            self.tolerance = tolerance
            self.seed = seed
        }
    }

    public var hyperparameters: Hyperparameters
    /// `clusterCount × features` centers; empty before `fit`.
    public private(set) var centroids = Matrix(rows: 0, columns: 0)
    /// Sum of squared distances from each training row to its nearest center.
    public private(set) var inertia = Double.infinity
    /// Lloyd iterations of the winning start.
    public private(set) var iterations = 0
    /// The cluster of each training row.
    public private(set) var labels: [Int] = []

    public init(hyperparameters: Hyperparameters = .init()) {
        self.hyperparameters = hyperparameters
    }

    /// Clusters the rows of `x` (no missing values).
    public mutating func fit(_ x: Matrix) throws {
        let k = hyperparameters.clusterCount
        guard k >= 1 else { throw FlywheelError.invalidArgument("clusterCount must be at least 1") }
        guard x.rows >= k else {
            throw FlywheelError.invalidArgument("k-means with \(k) clusters needs at least \(k) rows, got \(x.rows)")
        }
        guard hyperparameters.initCount >= 1 else { throw FlywheelError.invalidArgument("initCount must be at least 1") }
        if x.values.contains(where: { !$0.isFinite }) {
            throw FlywheelError.invalidArgument("k-means needs finite values; impute missing values first")
        }
        // Scale the tolerance by the mean per-feature variance so it does not depend on units.
        var meanVariance = 0.0
        for c in 0..<x.columns {
            var mean = 0.0
            for r in 0..<x.rows { mean += x[r, c] }
            mean /= Double(x.rows)
            var v = 0.0
            for r in 0..<x.rows { v += (x[r, c] - mean) * (x[r, c] - mean) }
            meanVariance += v / Double(x.rows)
        }
        meanVariance /= Double(max(x.columns, 1))
        let tol = hyperparameters.tolerance * meanVariance
        let root = SeededRandom(seed: hyperparameters.seed)
        var best: (centers: Matrix, labels: [Int], inertia: Double, iterations: Int)?
        for start in 0..<hyperparameters.initCount {
            var rng = root.derived(start)
            let initial = Self.plusPlus(x, k: k, rng: &rng)
            let run = Self.lloyd(x, centers: initial, maxIterations: hyperparameters.maxIterations, tolerance: tol)
            if best == nil || run.inertia < (best?.inertia ?? .infinity) { best = run }
        }
        // invariant: initCount ≥ 1 was checked above, so at least one run was recorded.
        let winner = best!
        centroids = winner.centers
        labels = winner.labels
        inertia = winner.inertia
        iterations = winner.iterations
    }

    /// The index of the nearest center for each row (ties go to the lowest index).
    public func predict(_ x: Matrix) -> [Int] {
        precondition(centroids.rows > 0, "predict before fit")
        precondition(x.columns == centroids.columns, "the model was fitted on \(centroids.columns) features, not \(x.columns)")
        return (0..<x.rows).map { Self.nearest(x, row: $0, centers: centroids).index }
    }

    static func squaredDistance(_ x: Matrix, row: Int, _ centers: Matrix, center: Int) -> Double {
        var s = 0.0
        let xb = row * x.columns, cb = center * centers.columns
        for c in 0..<x.columns {
            let d = x.values[xb + c] - centers.values[cb + c]
            s += d * d
        }
        return s
    }

    static func nearest(_ x: Matrix, row: Int, centers: Matrix) -> (index: Int, distance: Double) {
        var best = 0
        var bestD = Double.infinity
        for j in 0..<centers.rows {
            let d = squaredDistance(x, row: row, centers, center: j)
            if d < bestD { bestD = d; best = j }
        }
        return (best, bestD)
    }

    /// Greedy k-means++: each new center is the best (lowest resulting potential) of
    /// `2 + ⌊ln k⌋` candidates drawn with probability proportional to squared distance.
    static func plusPlus(_ x: Matrix, k: Int, rng: inout SeededRandom) -> Matrix {
        let n = x.rows, p = x.columns
        var centers = Matrix(rows: k, columns: p)
        let first = rng.below(n)
        for c in 0..<p { centers[0, c] = x[first, c] }
        var closest = (0..<n).map { squaredDistance(x, row: $0, centers, center: 0) }
        var potential = closest.reduce(0, +)
        let trials = 2 + Int(log(Double(k)))
        for j in 1..<max(k, 1) {
            var bestCandidate = -1
            var bestPotential = Double.infinity
            var bestClosest = closest
            for _ in 0..<trials {
                let candidate = sample(closest, total: potential, rng: &rng)
                var newClosest = closest
                var total = 0.0
                let cb = candidate * p
                for r in 0..<n {
                    var d = 0.0
                    let xb = r * p
                    for c in 0..<p {
                        let t = x.values[xb + c] - x.values[cb + c]
                        d += t * t
                    }
                    if d < newClosest[r] { newClosest[r] = d }
                    total += newClosest[r]
                }
                if total < bestPotential {
                    bestPotential = total
                    bestCandidate = candidate
                    bestClosest = newClosest
                }
            }
            for c in 0..<p { centers[j, c] = x[bestCandidate, c] }
            closest = bestClosest
            potential = bestPotential
        }
        return centers
    }

    /// A row index drawn with probability `weights[i] / total` (uniform when all weights are 0).
    static func sample(_ weights: [Double], total: Double, rng: inout SeededRandom) -> Int {
        guard total > 0 else { return rng.below(weights.count) }
        let target = rng.unit() * total
        var acc = 0.0
        for (i, w) in weights.enumerated() {
            acc += w
            if acc > target { return i }
        }
        // Rounding left the target just past the sum: take the last row with weight.
        return weights.lastIndex(where: { $0 > 0 }) ?? (weights.count - 1)
    }

    static func lloyd(_ x: Matrix, centers start: Matrix, maxIterations: Int, tolerance: Double)
        -> (centers: Matrix, labels: [Int], inertia: Double, iterations: Int)
    {
        let n = x.rows, p = x.columns, k = start.rows
        var centers = start
        var labels = [Int](repeating: -1, count: n)
        var distances = [Double](repeating: 0, count: n)
        var iterations = 0
        var strict = false
        for _ in 0..<max(maxIterations, 1) {
            iterations += 1
            var changed = false
            for r in 0..<n {
                let (j, d) = nearest(x, row: r, centers: centers)
                if labels[r] != j { changed = true; labels[r] = j }
                distances[r] = d
            }
            if !changed { strict = true; break }
            var sums = Matrix(rows: k, columns: p)
            var counts = [Int](repeating: 0, count: k)
            for r in 0..<n {
                counts[labels[r]] += 1
                for c in 0..<p { sums[labels[r], c] += x[r, c] }
            }
            // An empty cluster takes the row farthest from its center.
            var taken = Set<Int>()
            for j in 0..<k where counts[j] == 0 {
                var far = -1
                for r in 0..<n where !taken.contains(r) && counts[labels[r]] > 1 && (far < 0 || distances[r] > distances[far]) {
                    far = r
                }
                guard far >= 0 else { continue }
                taken.insert(far)
                let old = labels[far]
                counts[old] -= 1
                for c in 0..<p { sums[old, c] -= x[far, c]; sums[j, c] = x[far, c] }
                counts[j] = 1
                labels[far] = j
            }
            var shift = 0.0
            for j in 0..<k where counts[j] > 0 {
                for c in 0..<p {
                    let v = sums[j, c] / Double(counts[j])
                    shift += (v - centers[j, c]) * (v - centers[j, c])
                    centers[j, c] = v
                }
            }
            if shift <= tolerance { break }
        }
        if !strict {
            for r in 0..<n {
                let (j, d) = nearest(x, row: r, centers: centers)
                labels[r] = j
                distances[r] = d
            }
        }
        return (centers, labels, distances.reduce(0, +), iterations)
    }
}
