import Foundation

/// The training data of a CART tree, column-major so that one feature's values are contiguous.
///
/// Built once and shared by every tree of a forest.
struct CARTData: Sendable {
    let rowCount: Int
    let featureCount: Int
    /// Feature `f` of row `i` at `f * rowCount + i`.
    let columns: [Double]
    /// Class index per row (classification), empty for regression.
    let labels: [Int32]
    /// Target per row (regression), empty for classification.
    let targets: [Double]
    /// Classes for classification, 0 for regression.
    let classCount: Int

    init(_ x: Matrix, labels: [Int] = [], targets: [Double] = [], classCount: Int) {
        rowCount = x.rows
        featureCount = x.columns
        var cols = [Double](repeating: 0, count: x.rows * x.columns)
        for i in 0..<x.rows {
            for f in 0..<x.columns { cols[f * x.rows + i] = x.values[i * x.columns + f] }
        }
        columns = cols
        self.labels = labels.map { Int32($0) }
        self.targets = targets
        self.classCount = classCount
    }
}

/// Grows one CART tree depth-first into `TreeNodes`.
///
/// Every candidate split of a node sorts that node's values of the feature and sweeps them once,
/// keeping running sums; a missing value is tried on both sides of each threshold and sent to the
/// better one. Rows carry weights so that a forest's bootstrap is a weight (the draw count) rather
/// than a copy of the data; rows with weight 0 take no part.
struct CARTBuilder {
    let data: CARTData
    let params: DecisionTreeHyperparameters

    private struct Pending {
        var start: Int
        var end: Int
        var node: Int
        var depth: Int
    }

    private struct Split {
        var feature = -1
        var threshold = 0.0
        var missingGoesLeft = false
        var score = -Double.infinity
    }

    func build(weights: [Double], random: inout SeededRandom) -> TreeNodes {
        let k = data.classCount
        let outputs = max(k, 1)
        var tree = TreeNodes(outputCount: outputs)
        var rows = [Int32]()
        rows.reserveCapacity(data.rowCount)
        for i in 0..<data.rowCount where weights[i] > 0 { rows.append(Int32(i)) }
        let zeros = [Double](repeating: 0, count: outputs)
        _ = tree.appendLeaf(zeros)
        var stack = [Pending(start: 0, end: rows.count, node: 0, depth: 0)]
        var features = Array(0..<data.featureCount)
        let maxFeatures = params.maxFeatures.resolve(data.featureCount)
        var scratch = Scratch(rowCapacity: rows.count, classCount: k)
        var nodeValues = [Double](repeating: 0, count: outputs)

        while let item = stack.popLast() {
            let count = item.end - item.start
            // Node statistics and value.
            var totalWeight = 0.0
            var impure = false
            for c in 0..<outputs { nodeValues[c] = 0 }
            if k > 0 {
                for p in item.start..<item.end {
                    let r = Int(rows[p])
                    nodeValues[Int(data.labels[r])] += weights[r]
                    totalWeight += weights[r]
                }
                var nonzero = 0
                for c in 0..<k where nodeValues[c] > 0 { nonzero += 1 }
                impure = nonzero > 1
                for c in 0..<k { nodeValues[c] /= totalWeight }
            } else {
                var sum = 0.0, sumSq = 0.0
                for p in item.start..<item.end {
                    let r = Int(rows[p])
                    let w = weights[r], y = data.targets[r]
                    totalWeight += w
                    sum += w * y
                    sumSq += w * y * y
                }
                let mean = sum / totalWeight
                nodeValues[0] = mean
                let variance = sumSq / totalWeight - mean * mean
                impure = variance > 1e-12 * max(1, mean * mean)
            }
            let base = item.node * outputs
            for c in 0..<outputs { tree.values[base + c] = nodeValues[c] }

            if !impure || count < params.minSamplesSplit || count < 2 * params.minSamplesLeaf { continue }
            if let d = params.maxDepth, item.depth >= d { continue }

            // Draw features in random order until `maxFeatures` non-constant ones were examined.
            var best = Split()
            var examined = 0
            for i in 0..<features.count {
                let j = i + random.below(features.count - i)
                features.swapAt(i, j)
                let f = features[i]
                if scratch.evaluate(feature: f, rows: rows[item.start..<item.end], data: data,
                                    weights: weights, params: params, best: &best) {
                    examined += 1
                    if examined >= maxFeatures { break }
                }
            }
            guard best.feature >= 0 else { continue }

            // Partition the node's rows: left first.
            var lo = item.start, hi = item.end - 1
            let column = best.feature * data.rowCount
            while lo <= hi {
                let v = data.columns[column + Int(rows[lo])]
                let goLeft = v.isNaN ? best.missingGoesLeft : v <= best.threshold
                if goLeft { lo += 1 } else { rows.swapAt(lo, hi); hi -= 1 }
            }
            let leftNode = tree.appendLeaf(zeros)
            let rightNode = tree.appendLeaf(zeros)
            tree.split(item.node, feature: best.feature, threshold: best.threshold,
                       missingGoesLeft: best.missingGoesLeft, left: leftNode, right: rightNode)
            stack.append(Pending(start: lo, end: item.end, node: rightNode, depth: item.depth + 1))
            stack.append(Pending(start: item.start, end: lo, node: leftNode, depth: item.depth + 1))
        }
        return tree
    }

    /// Reusable buffers for split search.
    private struct Scratch {
        var values: [Double]
        var order: [Int32]
        var sortKeys: [SortKey]
        var leftCounts: [Double]
        var totalCounts: [Double]
        var missingCounts: [Double]

        struct SortKey {
            var value: Double
            var row: Int32
        }

        init(rowCapacity: Int, classCount: Int) {
            values = []
            values.reserveCapacity(rowCapacity)
            order = []
            order.reserveCapacity(rowCapacity)
            sortKeys = []
            sortKeys.reserveCapacity(rowCapacity)
            leftCounts = [Double](repeating: 0, count: classCount)
            totalCounts = leftCounts
            missingCounts = leftCounts
        }

        /// Looks for the best threshold on `feature`; updates `best` when it beats it.
        /// Returns false when the feature is constant in this node (it then doesn't count as examined).
        mutating func evaluate(feature f: Int, rows: ArraySlice<Int32>, data: CARTData, weights: [Double],
                               params: DecisionTreeHyperparameters, best: inout Split) -> Bool {
            let column = f * data.rowCount
            sortKeys.removeAll(keepingCapacity: true)
            var missingCount = 0
            var missingWeight = 0.0, missingSum = 0.0
            let k = data.classCount
            for c in 0..<k { missingCounts[c] = 0; totalCounts[c] = 0; leftCounts[c] = 0 }
            var totalWeight = 0.0, totalSum = 0.0
            for r32 in rows {
                let r = Int(r32)
                let v = data.columns[column + r]
                let w = weights[r]
                if v.isNaN {
                    missingCount += 1
                    missingWeight += w
                    if k > 0 { missingCounts[Int(data.labels[r])] += w } else { missingSum += w * data.targets[r] }
                } else {
                    sortKeys.append(SortKey(value: v, row: r32))
                    totalWeight += w
                    if k > 0 { totalCounts[Int(data.labels[r])] += w } else { totalSum += w * data.targets[r] }
                }
            }
            let m = sortKeys.count
            if m == 0 { return false }
            sortKeys.sort { $0.value < $1.value }
            let constant = sortKeys[0].value == sortKeys[m - 1].value
            if constant && missingCount == 0 { return false }

            let minLeaf = params.minSamplesLeaf
            let entropy = params.criterion == .entropy
            var leftWeight = 0.0, leftSum = 0.0
            var leftSquares = 0.0 // Σ leftCounts², kept incrementally for gini
            var rightSquares = 0.0
            if k > 0 { for c in 0..<k { rightSquares += totalCounts[c] * totalCounts[c] } }

            func score(_ lw: Double, _ ls: Double, _ lsq: Double, _ rw: Double, _ rs: Double, _ rsq: Double,
                       missingLeft: Bool?) -> Double {
                // Higher is better; equal to minus the children's weighted impurity up to a constant.
                if k == 0 { return ls * ls / lw + rs * rs / rw }
                if !entropy { return lsq / lw + rsq / rw }
                var s = 0.0
                for c in 0..<k {
                    var l = leftCounts[c]
                    var r = totalCounts[c] - leftCounts[c]
                    if let ml = missingLeft { if ml { l += missingCounts[c] } else { r += missingCounts[c] } }
                    if l > 0 { s += l * Foundation.log(l / lw) }
                    if r > 0 { s += r * Foundation.log(r / rw) }
                }
                return s
            }

            for i in 0..<m {
                let r = Int(sortKeys[i].row)
                let w = weights[r]
                leftWeight += w
                if k > 0 {
                    let c = Int(data.labels[r])
                    let before = leftCounts[c]
                    leftCounts[c] = before + w
                    leftSquares += 2 * before * w + w * w
                    let rightBefore = totalCounts[c] - before
                    rightSquares += -2 * rightBefore * w + w * w
                } else {
                    leftSum += w * data.targets[r]
                }
                let lastNonMissing = i == m - 1
                if lastNonMissing {
                    // Only a "present vs missing" split is left to try.
                    guard missingCount > 0, m >= minLeaf, missingCount >= minLeaf else { break }
                    let rsq = k > 0 ? squares(missingCounts) : 0
                    let s = score(leftWeight, leftSum, leftSquares, missingWeight, missingSum, rsq, missingLeft: nil)
                    if entropy && k > 0 {
                        // `score` adds missing to neither side here; the right side is exactly the missing rows.
                        let e = entropyScore(left: leftCounts, leftWeight: leftWeight, right: missingCounts, rightWeight: missingWeight)
                        consider(e, feature: f, threshold: sortKeys[m - 1].value, missingLeft: false, best: &best)
                    } else {
                        consider(s, feature: f, threshold: sortKeys[m - 1].value, missingLeft: false, best: &best)
                    }
                    break
                }
                let v = sortKeys[i].value, next = sortKeys[i + 1].value
                if v == next { continue }
                let nLeft = i + 1, nRight = m - nLeft
                var threshold = v + (next - v) / 2
                if threshold >= next || !threshold.isFinite { threshold = v }
                let rightWeight = totalWeight - leftWeight
                let rightSum = totalSum - leftSum
                // Missing to the right (or no missing at all).
                if nLeft >= minLeaf && nRight + missingCount >= minLeaf {
                    var rsq = rightSquares
                    if missingCount > 0 && k > 0 {
                        rsq = 0
                        for c in 0..<k { let x = totalCounts[c] - leftCounts[c] + missingCounts[c]; rsq += x * x }
                    }
                    let s = score(leftWeight, leftSum, leftSquares, rightWeight + missingWeight, rightSum + missingSum, rsq,
                                  missingLeft: missingCount > 0 ? false : nil)
                    // With no missing value here, a missing value at prediction follows the majority.
                    let missingLeft = missingCount == 0 && leftWeight >= rightWeight
                    consider(s, feature: f, threshold: threshold, missingLeft: missingLeft, best: &best)
                }
                // Missing to the left.
                if missingCount > 0 && nLeft + missingCount >= minLeaf && nRight >= minLeaf {
                    var lsq = leftSquares
                    if k > 0 {
                        lsq = 0
                        for c in 0..<k { let x = leftCounts[c] + missingCounts[c]; lsq += x * x }
                    }
                    let s = score(leftWeight + missingWeight, leftSum + missingSum, lsq, rightWeight, rightSum, rightSquares,
                                  missingLeft: true)
                    consider(s, feature: f, threshold: threshold, missingLeft: true, best: &best)
                }
            }
            return true
        }

        private func squares(_ a: [Double]) -> Double { a.reduce(0) { $0 + $1 * $1 } }

        private func entropyScore(left: [Double], leftWeight: Double, right: [Double], rightWeight: Double) -> Double {
            var s = 0.0
            for c in 0..<left.count {
                if left[c] > 0 { s += left[c] * Foundation.log(left[c] / leftWeight) }
                if right[c] > 0 { s += right[c] * Foundation.log(right[c] / rightWeight) }
            }
            return s
        }

        private func consider(_ score: Double, feature: Int, threshold: Double, missingLeft: Bool, best: inout Split) {
            if score > best.score + 1e-12 * abs(best.score) || best.feature < 0 {
                best = Split(feature: feature, threshold: threshold, missingGoesLeft: missingLeft, score: score)
            }
        }
    }
}
