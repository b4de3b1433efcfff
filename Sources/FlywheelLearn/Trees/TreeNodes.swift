/// A fitted tree stored as flat arrays: one entry per node, children by index.
///
/// Nodes are packed in one array of small structs so that walking a row to its leaf touches one
/// contiguous buffer without allocating; the encoded form is plain parallel arrays (`feature`,
/// `threshold`, `left`, `right`, `missingGoesLeft`, `values`). A node is a leaf when its feature
/// is negative. A row goes left when its value is `<= threshold`; a missing value (NaN) goes left
/// when `missingGoesLeft`. Each node carries `outputCount` values in `values` (class fractions for
/// a classification tree, one value for a regression or boosting tree).
public struct TreeNodes: Hashable, Codable, Sendable {
    /// One node, packed for prediction.
    @usableFromInline
    struct Node: Hashable, Sendable {
        @usableFromInline var threshold: Double
        @usableFromInline var feature: Int32
        @usableFromInline var left: Int32
        @usableFromInline var right: Int32
        @usableFromInline var missingGoesLeft: Bool
    }

    @usableFromInline
    var nodes: [Node] = []
    /// One more than the largest split feature: the fewest values a row needs (derived, not encoded).
    @usableFromInline
    var requiredWidth = 0
    /// `outputCount` values per node, node-major.
    public internal(set) var values: [Double] = []
    /// Values per node: the class count for a classification tree, 1 otherwise.
    public let outputCount: Int

    /// An empty tree whose nodes will carry `outputCount` values each.
    public init(outputCount: Int) { self.outputCount = outputCount }

    /// Number of nodes, leaves included.
    public var nodeCount: Int { nodes.count }
    /// Split feature per node, or -1 for a leaf.
    public var feature: [Int32] { nodes.map(\.feature) }
    /// Split threshold per node (0 for leaves).
    public var threshold: [Double] { nodes.map(\.threshold) }
    /// Left child per node (-1 for leaves).
    public var left: [Int32] { nodes.map(\.left) }
    /// Right child per node (-1 for leaves).
    public var right: [Int32] { nodes.map(\.right) }
    /// Where a missing value goes at each split, learned at fit time.
    public var missingGoesLeft: [Bool] { nodes.map(\.missingGoesLeft) }

    /// Appends a node (a leaf until `split` is called on it) and returns its index.
    mutating func appendLeaf(_ nodeValues: some Collection<Double>) -> Int {
        nodes.append(Node(threshold: 0, feature: -1, left: -1, right: -1, missingGoesLeft: false))
        values.append(contentsOf: nodeValues)
        return nodes.count - 1
    }

    mutating func split(_ node: Int, feature f: Int, threshold t: Double, missingGoesLeft m: Bool, left l: Int, right r: Int) {
        nodes[node] = Node(threshold: t, feature: Int32(f), left: Int32(l), right: Int32(r), missingGoesLeft: m)
        requiredWidth = max(requiredWidth, f + 1)
    }

    /// The leaf a row lands in (0 for an empty tree). `row` must hold every feature the tree was
    /// fit on; a shorter row stops the program rather than read past its end.
    @inlinable
    public func leaf(for row: UnsafeBufferPointer<Double>) -> Int {
        nodes.withUnsafeBufferPointer { buffer in
            // An empty array may still have a base address: test the count.
            guard buffer.count > 1, let base = buffer.baseAddress else { return 0 }
            precondition(row.count >= requiredWidth, "the row has too few features for this tree")
            // A row without storage can only meet a tree that never reads it (requiredWidth 0).
            guard let x = row.baseAddress else { return 0 }
            var node = 0
            while true {
                let current = base[node]
                if current.feature < 0 { return node }
                let v = x[Int(current.feature)]
                let goLeft = v.isNaN ? current.missingGoesLeft : v <= current.threshold
                node = Int(goLeft ? current.left : current.right)
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
            if nodes[node].feature >= 0 {
                stack.append((Int(nodes[node].left), d + 1))
                stack.append((Int(nodes[node].right), d + 1))
            }
        }
        return deepest
    }

    /// Indices of the leaves.
    public var leaves: [Int] { nodes.indices.filter { nodes[$0].feature < 0 } }

    private enum CodingKeys: String, CodingKey { case feature, threshold, left, right, missingGoesLeft, values, outputCount }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        outputCount = try c.decode(Int.self, forKey: .outputCount)
        values = try c.decode([Double].self, forKey: .values)
        let feature = try c.decode([Int32].self, forKey: .feature)
        let threshold = try c.decode([Double].self, forKey: .threshold)
        let left = try c.decode([Int32].self, forKey: .left)
        let right = try c.decode([Int32].self, forKey: .right)
        let missing = try c.decode([Bool].self, forKey: .missingGoesLeft)
        let n = feature.count
        guard threshold.count == n, left.count == n, right.count == n, missing.count == n,
              values.count == n * outputCount else {
            throw DecodingError.dataCorruptedError(forKey: .values, in: c, debugDescription: "tree arrays disagree in length")
        }
        // Children must point forward inside the tree, so prediction always ends at a leaf, and
        // no node may have two parents, so the nodes form a tree (packing it for prediction
        // copies each node once).
        var hasParent = [Bool](repeating: false, count: n)
        for i in 0..<n where feature[i] >= 0 {
            guard Int(left[i]) > i, Int(left[i]) < n, Int(right[i]) > i, Int(right[i]) < n, left[i] != right[i],
                  !hasParent[Int(left[i])], !hasParent[Int(right[i])] else {
                throw DecodingError.dataCorruptedError(forKey: .left, in: c, debugDescription: "node \(i) has an invalid child")
            }
            hasParent[Int(left[i])] = true
            hasParent[Int(right[i])] = true
        }
        requiredWidth = Int(feature.max() ?? -1) + 1
        nodes = (0..<n).map {
            Node(threshold: threshold[$0], feature: feature[$0], left: left[$0], right: right[$0], missingGoesLeft: missing[$0])
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(outputCount, forKey: .outputCount)
        try c.encode(feature, forKey: .feature)
        try c.encode(threshold, forKey: .threshold)
        try c.encode(left, forKey: .left)
        try c.encode(right, forKey: .right)
        try c.encode(missingGoesLeft, forKey: .missingGoesLeft)
        try c.encode(values, forKey: .values)
    }
}
