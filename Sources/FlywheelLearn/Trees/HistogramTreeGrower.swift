/// Grows one regression tree on binned features from per-row gradients and hessians, best-first.
///
/// A node's histogram holds, per feature and bin, the sums of gradient, hessian and rows. Only
/// the smaller child's histogram is built from rows; the larger one is the parent's minus it.
/// A split's gain is G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ); the missing bin is tried on both
/// sides. Leaf values are −learningRate·G/(H+λ).
struct HistogramTreeGrower {
    static let binsPerFeature = 256

    let bins: [UInt8]          // column-major, `rowCount` rows
    let rowCount: Int
    let featureCount: Int
    let binner: FeatureBinner
    let params: HistGradientBoostingHyperparameters
    let minHessian = 1e-3

    struct Histogram {
        var gradient: [Double]
        var hessian: [Double]
        var count: [Int32]
    }

    private struct Split {
        var gain = 0.0
        var feature = -1
        var bin = 0
        var missingGoesLeft = false
        var leftCount = 0
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
            first.split = bestSplit(rootHistogram, count: rows.count, gradient: g, hessian: h, depth: 0)
            first.histogram = rootHistogram
        }
        if first.split.feature >= 0 { open.append(first) } else { done.append(first) }
        var leafCount = 1
        let maxLeaves = params.maxLeafNodes ?? Int.max

        while leafCount < maxLeaves {
            // Best-first: split the open leaf with the largest gain.
            var pick = -1
            for i in open.indices where open[i].split.feature >= 0 {
                if pick < 0 || open[i].split.gain > open[pick].split.gain { pick = i }
            }
            guard pick >= 0 else { break }
            let leaf = open.remove(at: pick)
            let s = leaf.split
            // Partition rows of the leaf: left first.
            let column = s.feature * rowCount
            var lo = leaf.start, hi = leaf.end - 1
            while lo <= hi {
                let b = bins[column + Int(rows[lo])]
                let goLeft = b == FeatureBinner.missingBin ? s.missingGoesLeft : Int(b) <= s.bin
                if goLeft { lo += 1 } else { rows.swapAt(lo, hi); hi -= 1 }
            }
            var lg = 0.0, lh = 0.0
            for p in leaf.start..<lo { lg += gradients[Int(rows[p])]; lh += hessians[Int(rows[p])] }
            let rg = leaf.gradient - lg, rh = leaf.hessian - lh
            let leftNode = tree.appendLeaf([leafValue(lg, lh)])
            let rightNode = tree.appendLeaf([leafValue(rg, rh)])
            let edges = binner.edges[s.feature]
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
                for child in [left, right] {
                    var c = child
                    if canSplit(c), let hist = c.histogram {
                        c.split = bestSplit(hist, count: c.end - c.start, gradient: c.gradient, hessian: c.hessian, depth: c.depth)
                    }
                    if c.split.feature >= 0 { open.append(c) } else { c.histogram = nil; done.append(c) }
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
        let size = featureCount * Self.binsPerFeature
        var hg = [Double](repeating: 0, count: size)
        var hh = [Double](repeating: 0, count: size)
        var hc = [Int32](repeating: 0, count: size)
        bins.withUnsafeBufferPointer { b in
            gradients.withUnsafeBufferPointer { gr in
                hessians.withUnsafeBufferPointer { he in
                    rows.withUnsafeBufferPointer { rs in
                        hg.withUnsafeMutableBufferPointer { og in
                            hh.withUnsafeMutableBufferPointer { oh in
                                hc.withUnsafeMutableBufferPointer { oc in
                                    for f in 0..<featureCount {
                                        let column = f * rowCount
                                        let base = f * Self.binsPerFeature
                                        for r32 in rs {
                                            let r = Int(r32)
                                            let slot = base + Int(b[column + r])
                                            og[slot] += gr[r]
                                            oh[slot] += he[r]
                                            oc[slot] += 1
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return Histogram(gradient: hg, hessian: hh, count: hc)
    }

    private func subtract(_ a: Histogram, _ b: Histogram) -> Histogram {
        var out = a
        for i in out.count.indices {
            out.gradient[i] -= b.gradient[i]
            out.hessian[i] -= b.hessian[i]
            out.count[i] -= b.count[i]
        }
        return out
    }

    private func bestSplit(_ hist: Histogram, count: Int, gradient g: Double, hessian h: Double, depth: Int) -> Split {
        var best = Split()
        let lambda = params.l2Regularization
        let minLeaf = params.minSamplesLeaf
        let parentScore = g * g / (h + lambda)
        func consider(_ lg: Double, _ lh: Double, _ lc: Int, feature: Int, bin: Int, missingLeft: Bool) {
            let rc = count - lc
            guard lc >= minLeaf, rc >= minLeaf else { return }
            let rg = g - lg, rh = h - lh
            guard lh >= minHessian, rh >= minHessian else { return }
            let gain = lg * lg / (lh + lambda) + rg * rg / (rh + lambda) - parentScore
            if gain > best.gain + 1e-12 * abs(best.gain) {
                best = Split(gain: gain, feature: feature, bin: bin, missingGoesLeft: missingLeft, leftCount: lc)
            }
        }
        for f in 0..<featureCount {
            let base = f * Self.binsPerFeature
            let nb = binner.binCount(f)
            let missingSlot = base + Int(FeatureBinner.missingBin)
            let mg = hist.gradient[missingSlot], mh = hist.hessian[missingSlot], mc = Int(hist.count[missingSlot])
            var lg = 0.0, lh = 0.0, lc = 0
            for b in 0..<nb {
                lg += hist.gradient[base + b]
                lh += hist.hessian[base + b]
                lc += Int(hist.count[base + b])
                if b == nb - 1 {
                    // Present values left, missing right.
                    if mc > 0 { consider(lg, lh, lc, feature: f, bin: b, missingLeft: false) }
                    break
                }
                if mc > 0 {
                    consider(lg, lh, lc, feature: f, bin: b, missingLeft: false)
                    consider(lg + mg, lh + mh, lc + mc, feature: f, bin: b, missingLeft: true)
                } else {
                    // No missing value here: at prediction a missing value follows the majority.
                    consider(lg, lh, lc, feature: f, bin: b, missingLeft: lc >= count - lc)
                }
            }
        }
        return best
    }
}
