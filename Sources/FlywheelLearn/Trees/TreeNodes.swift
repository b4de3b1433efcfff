/// A fitted tree stored as flat, parallel arrays: one entry per node, children by index.
///
/// Flat arrays keep prediction to a tight loop without allocation and make the model `Codable`
/// as a handful of numeric arrays. A node is a leaf when `feature[node] < 0`. A row goes left
/// when its value is `<= threshold[node]`; a missing value (NaN) goes left when
/// `missingGoesLeft[node]`. Each node carries `outputCount` values in `values` (class fractions
/// for a classification tree, one value for a regression or boosting tree).
public struct TreeNodes: Hashable, Codable, Sendable {
    /// Split feature per node, or -1 for a leaf.
    public var feature: [Int32] = []
    /// Split threshold per node (unused for leaves).
    public var threshold: [Double] = []
    /// Left child index per node (-1 for leaves).
    public var left: [Int32] = []
    /// Right child index per node (-1 for leaves).
    public var right: [Int32] = []
    /// Where a missing value goes at each split, learned at fit time.
    public var missingGoesLeft: [Bool] = []
    /// `outputCount` values per node, node-major.
    public var values: [Double] = []
    /// Values per node: the class count for a classification tree, 1 otherwise.
    public var outputCount: Int

    public init(outputCount: Int) { self.outputCount = outputCount }

    /// Number of nodes, leaves included.
    public var nodeCount: Int { feature.count }

    /// Appends a node (a leaf until `split` is called on it) and returns its index.
    mutating func appendLeaf(_ nodeValues: some Collection<Double>) -> Int {
        feature.append(-1)
        threshold.append(0)
        left.append(-1)
        right.append(-1)
        missingGoesLeft.append(false)
        values.append(contentsOf: nodeValues)
        return feature.count - 1
    }

    mutating func split(_ node: Int, feature f: Int, threshold t: Double, missingGoesLeft m: Bool, left l: Int, right r: Int) {
        feature[node] = Int32(f)
        threshold[node] = t
        missingGoesLeft[node] = m
        left[node] = Int32(l)
        right[node] = Int32(r)
    }

    /// The leaf a row lands in. `row` must hold every feature the tree was fit on.
    @inlinable
    public func leaf(for row: UnsafeBufferPointer<Double>) -> Int {
        feature.withUnsafeBufferPointer { feat in
            threshold.withUnsafeBufferPointer { thr in
                left.withUnsafeBufferPointer { lft in
                    right.withUnsafeBufferPointer { rgt in
                        missingGoesLeft.withUnsafeBufferPointer { miss in
                            var node = 0
                            while true {
                                let f = Int(feat[node])
                                if f < 0 { return node }
                                let v = row[f]
                                let goLeft = v.isNaN ? miss[node] : v <= thr[node]
                                node = Int(goLeft ? lft[node] : rgt[node])
                            }
                        }
                    }
                }
            }
        }
    }

    /// The leaf a row lands in.
    public func leaf(for row: ArraySlice<Double>) -> Int {
        row.withUnsafeBufferPointer { leaf(for: $0) }
    }

    /// Greatest depth of any leaf (a single leaf has depth 0).
    public var depth: Int {
        guard nodeCount > 0 else { return 0 }
        var deepest = 0
        var stack: [(Int, Int)] = [(0, 0)]
        while let (node, d) = stack.popLast() {
            deepest = max(deepest, d)
            if feature[node] >= 0 {
                stack.append((Int(left[node]), d + 1))
                stack.append((Int(right[node]), d + 1))
            }
        }
        return deepest
    }

    /// Indices of the leaves.
    public var leaves: [Int] { (0..<nodeCount).filter { feature[$0] < 0 } }
}
