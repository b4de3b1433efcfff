import FlywheelCore
import Foundation

/// The training data of a CART tree, column-major, with every feature's rows presorted once.
///
/// Built once and shared by every tree of a forest.
struct CARTData: Sendable {
    let rowCount: Int
    let featureCount: Int
    /// Feature `f` of row `i` at `f * rowCount + i`.
    let columns: [Double]
    /// Per feature, all rows in increasing order of that feature's value, missing values last.
    let sortedRows: [Int32]
    /// Class index per row (classification), empty for regression.
    let labels: [Int32]
    /// Target per row (regression), empty for classification.
    let targets: [Double]
    /// Classes for classification, 0 for regression.
    let classCount: Int

    init(_ x: Matrix, labels: [Int] = [], targets: [Double] = [], classCount: Int) {
        let n = x.rows
        rowCount = n
        featureCount = x.columns
        var cols = [Double](repeating: 0, count: n * x.columns)
        for i in 0..<n {
            for f in 0..<x.columns { cols[f * n + i] = x.values[i * x.columns + f] }
        }
        var sorted = [Int32]()
        sorted.reserveCapacity(n * x.columns)
        for f in 0..<x.columns {
            let base = f * n
            let present = (0..<n).filter { !cols[base + $0].isNaN }.sorted { cols[base + $0] < cols[base + $1] }
            sorted.append(contentsOf: present.map { Int32($0) })
            sorted.append(contentsOf: (0..<n).filter { cols[base + $0].isNaN }.map { Int32($0) })
        }
        columns = cols
        sortedRows = sorted
        self.labels = labels.map { Int32($0) }
        self.targets = targets
        self.classCount = classCount
    }
}

/// Grows one CART tree depth-first into `TreeNodes`.
///
/// Every feature that still varies in a node keeps the node's rows in sorted order (presorted
/// once per dataset; a stable partition at each split keeps them sorted), so finding a feature's
/// best threshold is one sweep with running sums. A feature found constant in a node is dropped
/// for its whole subtree, as it can never split there again. A missing
/// value is tried on both sides of each threshold and sent to the better one. Rows carry weights,
/// so a forest's bootstrap is a weight (the draw count) rather than a copy; rows of weight 0 take
/// no part. Hot loops use raw pointers and `while` so that debug builds (the tests) stay usable.
struct CARTBuilder {
    let data: CARTData
    let params: DecisionTreeHyperparameters

    private struct Pending {
        var start: Int
        var end: Int
        var node: Int
        var depth: Int
        /// Features not constant in this node (a constant feature stays constant below it).
        var features: [Int]
    }

    struct Split {
        var feature = -1
        var threshold = 0.0
        var missingGoesLeft = false
        var score = -Double.infinity
    }

    func build(weights: [Double], random: inout SeededRandom) -> TreeNodes {
        data.columns.withUnsafeBufferPointer { columns in
            data.sortedRows.withUnsafeBufferPointer { sorted in
                data.labels.withUnsafeBufferPointer { labels in
                    data.targets.withUnsafeBufferPointer { targets in
                        weights.withUnsafeBufferPointer { w in
                            let context = Context(columns: columns, labels: labels, targets: targets, weights: w,
                                                  rowCount: data.rowCount, classCount: data.classCount, params: params)
                            return grow(context, sorted: sorted, random: &random)
                        }
                    }
                }
            }
        }
    }

    private func grow(_ cx: Context, sorted: UnsafeBufferPointer<Int32>, random: inout SeededRandom) -> TreeNodes {
        let n = data.rowCount
        let d = data.featureCount
        let k = data.classCount
        let outputs = max(k, 1)
        var tree = TreeNodes(outputCount: outputs)
        let zeros = [Double](repeating: 0, count: outputs)
        _ = tree.appendLeaf(zeros)

        // Each feature's sorted rows, restricted to rows with a positive weight.
        var m = 0
        for i in 0..<n where cx.weights[i] > 0 { m += 1 }
        guard m > 0, d > 0 else { return tree }
        // Segment f < d: rows sorted by feature f; segment d: the rows, for node statistics.
        let order = UnsafeMutablePointer<Int32>.allocate(capacity: (d + 1) * m)
        let members = order + d * m
        let temp = UnsafeMutablePointer<Int32>.allocate(capacity: m)
        let goesLeft = UnsafeMutablePointer<Bool>.allocate(capacity: n)
        let scratch = UnsafeMutablePointer<Double>.allocate(capacity: 4 * max(k, 1))
        defer {
            order.deallocate()
            temp.deallocate()
            goesLeft.deallocate()
            scratch.deallocate()
        }
        for f in 0..<d {
            var p = f * m
            var i = f * n
            let end = i + n
            while i < end {
                let r = sorted[i]
                if cx.weights[Int(r)] > 0 { order[p] = r; p += 1 }
                i += 1
            }
        }
        members.update(from: order, count: m)
        guard let columnBase = cx.columns.baseAddress else { return tree }
        /// Whether feature `f` takes more than one value (or has a missing value) in `rows`, sorted by it.
        func varies(_ f: Int, _ rows: UnsafeMutablePointer<Int32>, _ count: Int) -> Bool {
            if count < 2 { return false }
            let x = columnBase + f * n
            let last = x[Int(rows[count - 1])]
            return last.isNaN || x[Int(rows[0])] != last
        }

        var stack = [Pending(start: 0, end: m, node: 0, depth: 0,
                             features: (0..<d).filter { varies($0, order + $0 * m, m) })]
        let maxFeatures = params.maxFeatures.resolve(d)
        var nodeValues = [Double](repeating: 0, count: outputs)

        while let item = stack.popLast() {
            let count = item.end - item.start
            // Node statistics and value, read from feature 0's copy of the node's rows.
            var totalWeight = 0.0
            var impure = false
            for c in 0..<outputs { nodeValues[c] = 0 }
            if k > 0 {
                var p = item.start
                while p < item.end {
                    let r = Int(members[p])
                    nodeValues[Int(cx.labels[r])] += cx.weights[r]
                    totalWeight += cx.weights[r]
                    p += 1
                }
                var nonzero = 0
                for c in 0..<k where nodeValues[c] > 0 { nonzero += 1 }
                impure = nonzero > 1
                for c in 0..<k { nodeValues[c] /= totalWeight }
            } else {
                var sum = 0.0, sumSq = 0.0
                var p = item.start
                while p < item.end {
                    let r = Int(members[p])
                    let w = cx.weights[r], y = cx.targets[r]
                    totalWeight += w
                    sum += w * y
                    sumSq += w * y * y
                    p += 1
                }
                let mean = sum / totalWeight
                nodeValues[0] = mean
                let variance = sumSq / totalWeight - mean * mean
                impure = variance > 1e-12 * max(1, mean * mean)
            }
            let base = item.node * outputs
            for c in 0..<outputs { tree.values[base + c] = nodeValues[c] }

            if !impure || count < params.minSamplesSplit || count < 2 * params.minSamplesLeaf { continue }
            if let limit = params.maxDepth, item.depth >= limit { continue }

            // Draw features in random order until `maxFeatures` non-constant ones were examined.
            var best = Split()
            var examined = 0
            var features = item.features
            for i in 0..<features.count {
                let j = i + random.below(features.count - i)
                features.swapAt(i, j)
                let f = features[i]
                if cx.evaluate(feature: f, rows: order + f * m + item.start, count: count, scratch: scratch, best: &best) {
                    examined += 1
                    if examined >= maxFeatures { break }
                }
            }
            guard best.feature >= 0 else { continue }

            // Mark each row's side, then stably partition every feature's copy of the node's rows.
            let column = columnBase + best.feature * n
            var leftCount = 0
            var p = item.start
            while p < item.end {
                let r = Int(members[p])
                let v = column[r]
                let left = v.isNaN ? best.missingGoesLeft : v <= best.threshold
                goesLeft[r] = left
                if left { leftCount += 1 }
                p += 1
            }
            var leftFeatures = [Int](), rightFeatures = [Int]()
            for f in item.features + [d] {
                let segment = order + f * m + item.start
                var l = 0, r = 0, i = 0
                while i < count {
                    if goesLeft[Int(segment[i])] { segment[l] = segment[i]; l += 1 } else { temp[r] = segment[i]; r += 1 }
                    i += 1
                }
                (segment + l).update(from: temp, count: r)
                if f < d {
                    if varies(f, segment, l) { leftFeatures.append(f) }
                    if varies(f, segment + l, r) { rightFeatures.append(f) }
                }
            }
            let mid = item.start + leftCount
            let leftNode = tree.appendLeaf(zeros)
            let rightNode = tree.appendLeaf(zeros)
            tree.split(item.node, feature: best.feature, threshold: best.threshold,
                       missingGoesLeft: best.missingGoesLeft, left: leftNode, right: rightNode)
            stack.append(Pending(start: mid, end: item.end, node: rightNode, depth: item.depth + 1, features: rightFeatures))
            stack.append(Pending(start: item.start, end: mid, node: leftNode, depth: item.depth + 1, features: leftFeatures))
        }
        return tree
    }

    /// Raw views of the training data for one tree.
    private struct Context {
        let columns: UnsafeBufferPointer<Double>
        let labels: UnsafeBufferPointer<Int32>
        let targets: UnsafeBufferPointer<Double>
        let weights: UnsafeBufferPointer<Double>
        let rowCount: Int
        let classCount: Int
        let params: DecisionTreeHyperparameters

        /// Looks for the best threshold on `feature` over a node's rows sorted by it (missing last);
        /// updates `best` when it beats it. Returns false when the feature is constant in this node
        /// (it then doesn't count as examined).
        func evaluate(feature f: Int, rows: UnsafeMutablePointer<Int32>, count: Int,
                      scratch: UnsafeMutablePointer<Double>, best: inout Split) -> Bool {
            guard let columnBase = columns.baseAddress, let w = weights.baseAddress else { return false }
            let x = columnBase + f * rowCount
            let k = classCount
            // Missing values sit at the end of the node's sorted rows.
            var present = count
            while present > 0 && x[Int(rows[present - 1])].isNaN { present -= 1 }
            if present == 0 { return false }
            let missingCount = count - present
            if missingCount == 0 && x[Int(rows[0])] == x[Int(rows[present - 1])] { return false }

            let leftCounts = scratch, totalCounts = scratch + k, missingCounts = scratch + 2 * k
            var missingWeight = 0.0, missingSum = 0.0, totalWeight = 0.0, totalSum = 0.0
            var c = 0
            while c < k { leftCounts[c] = 0; totalCounts[c] = 0; missingCounts[c] = 0; c += 1 }
            // An empty array may still have a base address: choose by task, not by nil.
            let label = k > 0 ? labels.baseAddress : nil, y = k == 0 ? targets.baseAddress : nil
            var i = 0
            while i < count {
                let r = Int(rows[i])
                let weight = w[r]
                if i < present {
                    totalWeight += weight
                    if let label { totalCounts[Int(label[r])] += weight } else if let y { totalSum += weight * y[r] }
                } else {
                    missingWeight += weight
                    if let label { missingCounts[Int(label[r])] += weight } else if let y { missingSum += weight * y[r] }
                }
                i += 1
            }

            let minLeaf = params.minSamplesLeaf
            let entropy = params.criterion == .entropy
            var leftWeight = 0.0, leftSum = 0.0
            var leftSquares = 0.0 // Σ leftCounts², kept incrementally for gini
            var rightSquares = 0.0 // Σ (totalCounts − leftCounts)²
            c = 0
            while c < k { rightSquares += totalCounts[c] * totalCounts[c]; c += 1 }

            // Higher is better: minus the children's weighted impurity, up to a constant.
            // `missing` says which side (if any) the missing rows join.
            func score(_ lw: Double, _ ls: Double, _ lsq: Double, _ rw: Double, _ rs: Double, _ rsq: Double,
                       missing: Side) -> Double {
                if k == 0 { return ls * ls / lw + rs * rs / rw }
                if !entropy { return lsq / lw + rsq / rw }
                var s = 0.0
                var c = 0
                while c < k {
                    var l = leftCounts[c]
                    var r = totalCounts[c] - leftCounts[c]
                    switch missing {
                    case .left: l += missingCounts[c]
                    case .right: r += missingCounts[c]
                    case .none: break
                    case .alone: l = totalCounts[c]; r = missingCounts[c]
                    }
                    if l > 0 { s += l * Foundation.log(l / lw) }
                    if r > 0 { s += r * Foundation.log(r / rw) }
                    c += 1
                }
                return s
            }

            i = 0
            while i < present {
                let r = Int(rows[i])
                let weight = w[r]
                leftWeight += weight
                if let label {
                    let c = Int(label[r])
                    let before = leftCounts[c]
                    leftCounts[c] = before + weight
                    leftSquares += 2 * before * weight + weight * weight
                    let rightBefore = totalCounts[c] - before
                    rightSquares += -2 * rightBefore * weight + weight * weight
                } else if let y {
                    leftSum += weight * y[r]
                }
                if i == present - 1 {
                    // Only "every present value left, missing right" is left to try.
                    if missingCount > 0 && present >= minLeaf && missingCount >= minLeaf {
                        var msq = 0.0
                        var c = 0
                        while c < k { msq += missingCounts[c] * missingCounts[c]; c += 1 }
                        let s = score(leftWeight, leftSum, leftSquares, missingWeight, missingSum, msq, missing: .alone)
                        consider(s, feature: f, threshold: x[r], missingLeft: false, best: &best)
                    }
                    break
                }
                let v = x[r], next = x[Int(rows[i + 1])]
                i += 1
                if v == next { continue }
                let nLeft = i, nRight = present - nLeft
                var threshold = v + (next - v) / 2
                if threshold >= next || !threshold.isFinite { threshold = v }
                let rightWeight = totalWeight - leftWeight
                let rightSum = totalSum - leftSum
                if missingCount == 0 {
                    guard nLeft >= minLeaf && nRight >= minLeaf else { continue }
                    let s = score(leftWeight, leftSum, leftSquares, rightWeight, rightSum, rightSquares, missing: .none)
                    // No missing value here: at prediction a missing value follows the heavier side.
                    consider(s, feature: f, threshold: threshold, missingLeft: leftWeight >= rightWeight, best: &best)
                    continue
                }
                if nLeft >= minLeaf && nRight + missingCount >= minLeaf {
                    var rsq = 0.0
                    var c = 0
                    while c < k { let q = totalCounts[c] - leftCounts[c] + missingCounts[c]; rsq += q * q; c += 1 }
                    let s = score(leftWeight, leftSum, leftSquares, rightWeight + missingWeight, rightSum + missingSum, rsq,
                                  missing: .right)
                    consider(s, feature: f, threshold: threshold, missingLeft: false, best: &best)
                }
                if nLeft + missingCount >= minLeaf && nRight >= minLeaf {
                    var lsq = 0.0
                    var c = 0
                    while c < k { let q = leftCounts[c] + missingCounts[c]; lsq += q * q; c += 1 }
                    let s = score(leftWeight + missingWeight, leftSum + missingSum, lsq, rightWeight, rightSum, rightSquares,
                                  missing: .left)
                    consider(s, feature: f, threshold: threshold, missingLeft: true, best: &best)
                }
            }
            return true
        }

        enum Side { case none, left, right, alone }

        private func consider(_ score: Double, feature: Int, threshold: Double, missingLeft: Bool, best: inout Split) {
            if best.feature < 0 || score > best.score + 1e-12 * abs(best.score) {
                best = Split(feature: feature, threshold: threshold, missingGoesLeft: missingLeft, score: score)
            }
        }
    }
}
