import Dispatch

/// Grows one regression tree on binned features from per-row gradients and hessians, best-first.
///
/// A node's histogram holds, per feature and bin (the missing bin last), the sums of gradient,
/// hessian and rows. Only the smaller child's histogram is built from rows; the larger one is
/// the parent's minus it. A split's gain is G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ); the missing
/// bin is tried on both sides. Leaf values are −learningRate·G/(H+λ).
///
/// Hot loops use raw pointers and `while` so that debug builds (the test suite) stay usable.
struct HistogramTreeGrower {
    let bins: [UInt8]          // column-major, `rowCount` rows; see `FeatureBinner`
    let rowCount: Int
    let featureCount: Int
    let binner: FeatureBinner
    let params: HistGradientBoostingHyperparameters
    let minHessian = 1e-3
    /// First histogram slot of each feature; feature `f` owns `binCount(f) + 1` slots (missing last).
    let offsets: [Int]
    /// Histogram slots in all.
    let slotCount: Int
    /// Non-missing bins per feature.
    let binCounts: [Int]
    /// Threads that may build one histogram, feature by feature; the result doesn't depend on it.
    let threads: Int

    init(bins: [UInt8], rowCount: Int, featureCount: Int, binner: FeatureBinner, params: HistGradientBoostingHyperparameters,
         threads: Int) {
        self.threads = threads
        self.bins = bins
        self.rowCount = rowCount
        self.featureCount = featureCount
        self.binner = binner
        self.params = params
        var offsets = [Int]()
        var total = 0
        for f in 0..<featureCount {
            offsets.append(total)
            total += binner.binCount(f) + 1
        }
        self.offsets = offsets
        slotCount = total
        binCounts = (0..<featureCount).map { binner.binCount($0) }
    }

    /// Interleaved (gradient, hessian, count) per slot.
    typealias Histogram = [Double]

    private struct Split {
        var gain = 0.0
        var feature = -1
        var bin = 0
        var missingGoesLeft = false
    }

    private struct Leaf {
        var node: Int
        var start: Int
        var end: Int
        var depth: Int
        var gradient: Double
        var hessian: Double
        var histogram: Histogram?
        var split: Split
    }

    /// Grows a tree over `rows` and returns it with, for each leaf, the rows it holds
    /// (so the caller can update its predictions without walking the tree).
    func grow(rows input: [Int32], gradients: [Double], hessians: [Double]) -> (TreeNodes, [(node: Int, rows: ArraySlice<Int32>)]) {
        var rows = input
        var tree = TreeNodes(outputCount: 1)
        var g = 0.0, h = 0.0
        for r in rows { g += gradients[Int(r)]; h += hessians[Int(r)] }
        let root = tree.appendLeaf([leafValue(g, h)])
        var first = Leaf(node: root, start: 0, end: rows.count, depth: 0, gradient: g, hessian: h, histogram: nil, split: Split())
        var done = [Leaf]()
        var open = [Leaf]()
        if canSplit(first) {
            let rootHistogram = histogram(rows[...], gradients, hessians)
            first.split = bestSplit(rootHistogram, count: rows.count, gradient: g, hessian: h)
            first.histogram = rootHistogram
        }
        if first.split.feature >= 0 { open.append(first) } else { done.append(first) }
        var leafCount = 1
        let maxLeaves = params.maxLeafNodes ?? Int.max

        while leafCount < maxLeaves {
            // Best-first: split the open leaf with the largest gain.
            var pick = -1
            for i in open.indices where pick < 0 || open[i].split.gain > open[pick].split.gain { pick = i }
            guard pick >= 0 else { break }
            let leaf = open.remove(at: pick)
            let s = leaf.split
            // Partition rows of the leaf: left first.
            let column = s.feature * rowCount
            let missing = UInt8(binner.binCount(s.feature))
            var lo = leaf.start, hi = leaf.end - 1
            while lo <= hi {
                let b = bins[column + Int(rows[lo])]
                let goLeft = b == missing ? s.missingGoesLeft : Int(b) <= s.bin
                if goLeft { lo += 1 } else { rows.swapAt(lo, hi); hi -= 1 }
            }
            var lg = 0.0, lh = 0.0
            for p in leaf.start..<lo { lg += gradients[Int(rows[p])]; lh += hessians[Int(rows[p])] }
            let rg = leaf.gradient - lg, rh = leaf.hessian - lh
            let leftNode = tree.appendLeaf([leafValue(lg, lh)])
            let rightNode = tree.appendLeaf([leafValue(rg, rh)])
            let edges = binner.edges[s.feature]
            // The top bin has no edge: "every present value left, missing right".
            let threshold = s.bin < edges.count ? edges[s.bin] : Double.greatestFiniteMagnitude
            tree.split(leaf.node, feature: s.feature, threshold: threshold, missingGoesLeft: s.missingGoesLeft,
                       left: leftNode, right: rightNode)
            leafCount += 1

            var left = Leaf(node: leftNode, start: leaf.start, end: lo, depth: leaf.depth + 1, gradient: lg, hessian: lh,
                            histogram: nil, split: Split())
            var right = Leaf(node: rightNode, start: lo, end: leaf.end, depth: leaf.depth + 1, gradient: rg, hessian: rh,
                             histogram: nil, split: Split())
            if let parent = leaf.histogram, canSplit(left) || canSplit(right) {
                let leftSmaller = lo - leaf.start <= leaf.end - lo
                let small = leftSmaller ? left : right
                let smallHistogram = histogram(rows[small.start..<small.end], gradients, hessians)
                let largeHistogram = subtract(parent, smallHistogram)
                left.histogram = leftSmaller ? smallHistogram : largeHistogram
                right.histogram = leftSmaller ? largeHistogram : smallHistogram
                for var child in [left, right] {
                    if canSplit(child), let hist = child.histogram {
                        child.split = bestSplit(hist, count: child.end - child.start, gradient: child.gradient, hessian: child.hessian)
                    }
                    if child.split.feature >= 0 { open.append(child) } else { child.histogram = nil; done.append(child) }
                }
            } else {
                done.append(left)
                done.append(right)
            }
        }
        let leaves = (done + open).map { (node: $0.node, rows: rows[$0.start..<$0.end]) }
        return (tree, leaves)
    }

    private func canSplit(_ leaf: Leaf) -> Bool {
        if let d = params.maxDepth, leaf.depth >= d { return false }
        return leaf.end - leaf.start >= 2 * params.minSamplesLeaf
    }

    private func leafValue(_ g: Double, _ h: Double) -> Double {
        -params.learningRate * g / (h + params.l2Regularization)
    }

    private func histogram(_ rows: ArraySlice<Int32>, _ gradients: [Double], _ hessians: [Double]) -> Histogram {
        var out = Histogram(repeating: 0, count: 3 * slotCount)
        let n = rowCount
        bins.withUnsafeBufferPointer { binBuffer in
            gradients.withUnsafeBufferPointer { gradientBuffer in
                hessians.withUnsafeBufferPointer { hessianBuffer in
                    rows.withUnsafeBufferPointer { rowBuffer in
                        offsets.withUnsafeBufferPointer { offsetBuffer in
                            out.withUnsafeMutableBufferPointer { outBuffer in
                                // invariant: every buffer here is non-empty (rows ≥ 1, features ≥ 1, slots ≥ 2).
                                guard let b = binBuffer.baseAddress, let gr = gradientBuffer.baseAddress,
                                      let he = hessianBuffer.baseAddress, let rs = rowBuffer.baseAddress,
                                      let offs = offsetBuffer.baseAddress, let o = outBuffer.baseAddress else { return }
                                let count = rowBuffer.count
                                let features = featureCount
                                // Each feature's slots are filled by one thread in row order, so the
                                // sums are the same whatever the thread count.
                                let fill = HistogramFill(bins: b, gradients: gr, hessians: he, rows: rs, rowCount: count,
                                                         offsets: offs, out: o, columnLength: n)
                                let workers = min(threads, features)
                                if workers > 1 && count * features >= 100_000 {
                                    DispatchQueue.concurrentPerform(iterations: workers) { w in
                                        var f = w
                                        while f < features { fill(f); f += workers }
                                    }
                                } else {
                                    var f = 0
                                    while f < features { fill(f); f += 1 }
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    private func subtract(_ a: Histogram, _ b: Histogram) -> Histogram {
        var out = a
        out.withUnsafeMutableBufferPointer { outBuffer in
            b.withUnsafeBufferPointer { bBuffer in
                guard let o = outBuffer.baseAddress, let s = bBuffer.baseAddress else { return }
                let n = outBuffer.count
                var i = 0
                while i < n { o[i] -= s[i]; i += 1 }
            }
        }
        return out
    }

    private func bestSplit(_ hist: Histogram, count: Int, gradient g: Double, hessian h: Double) -> Split {
        var best = Split()
        var search = SplitSearch(lambda: params.l2Regularization, minLeaf: Double(params.minSamplesLeaf),
                                 minHessian: minHessian, total: Double(count), gradient: g, hessian: h)
        let offsets = self.offsets, binCounts = self.binCounts, featureCount = self.featureCount
        hist.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            var f = 0
            while f < featureCount {
                let slots = base + 3 * offsets[f]
                let nb = binCounts[f]
                let missing = slots + 3 * nb
                let mg = missing[0], mh = missing[1], mc = missing[2]
                var lg = 0.0, lh = 0.0, lc = 0.0
                let minLeaf = search.minLeaf, maxLeft = search.total - search.minLeaf
                var b = 0
                while b < nb {
                    lg += slots[3 * b]
                    lh += slots[3 * b + 1]
                    lc += slots[3 * b + 2]
                    // An empty bin repeats the previous split; too few rows on a side can only be
                    // fixed by moving on (left) or never again (right).
                    if (slots[3 * b + 2] == 0 && b > 0 && b < nb - 1) || lc < minLeaf {
                        b += 1
                        continue
                    }
                    if lc > maxLeft && mc == 0 { break }
                    if b == nb - 1 {
                        // Present values left, missing right.
                        if mc > 0 { search.consider(lg, lh, lc, feature: f, bin: b, missingLeft: false) }
                    } else if mc > 0 {
                        search.consider(lg, lh, lc, feature: f, bin: b, missingLeft: false)
                        search.consider(lg + mg, lh + mh, lc + mc, feature: f, bin: b, missingLeft: true)
                    } else {
                        // No missing value here: at prediction a missing value follows the majority.
                        search.consider(lg, lh, lc, feature: f, bin: b, missingLeft: lc + lc >= search.total)
                    }
                    b += 1
                }
                f += 1
            }
        }
        best = search.best
        return best
    }

    /// The running best split of one node.
    private struct SplitSearch {
        let lambda: Double
        let minLeaf: Double
        let minHessian: Double
        let total: Double
        let gradient: Double
        let hessian: Double
        let parentScore: Double
        var best = Split()

        init(lambda: Double, minLeaf: Double, minHessian: Double, total: Double, gradient: Double, hessian: Double) {
            self.lambda = lambda
            self.minLeaf = minLeaf
            self.minHessian = minHessian
            self.total = total
            self.gradient = gradient
            self.hessian = hessian
            parentScore = gradient * gradient / (hessian + lambda)
        }

        mutating func consider(_ lg: Double, _ lh: Double, _ lc: Double, feature: Int, bin: Int, missingLeft: Bool) {
            if lc < minLeaf || total - lc < minLeaf { return }
            let rg = gradient - lg, rh = hessian - lh
            if lh < minHessian || rh < minHessian { return }
            let gain = lg * lg / (lh + lambda) + rg * rg / (rh + lambda) - parentScore
            let margin = best.gain < 0 ? -best.gain : best.gain
            if gain > best.gain + 1e-12 * margin {
                best = Split(gain: gain, feature: feature, bin: bin, missingGoesLeft: missingLeft)
            }
        }
    }
}

/// Fills one feature's histogram slots from raw buffers.
///
/// `@unchecked Sendable`: the pointers are only used inside the `concurrentPerform` that the
/// owning arrays' `withUnsafe…` scopes enclose, and each feature's slots are written by one thread.
private struct HistogramFill: @unchecked Sendable {
    let bins: UnsafePointer<UInt8>
    let gradients: UnsafePointer<Double>
    let hessians: UnsafePointer<Double>
    let rows: UnsafePointer<Int32>
    let rowCount: Int
    let offsets: UnsafePointer<Int>
    let out: UnsafeMutablePointer<Double>
    let columnLength: Int

    func callAsFunction(_ f: Int) {
        let column = bins + f * columnLength
        let base = out + 3 * offsets[f]
        var i = 0
        while i < rowCount {
            let r = Int(rows[i])
            let slot = base + 3 * Int(column[r])
            slot[0] += gradients[r]
            slot[1] += hessians[r]
            slot[2] += 1
            i += 1
        }
    }
}
