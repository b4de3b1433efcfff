#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The trees of a fitted model laid out for prediction: derived from their `TreeNodes` when the
/// model is fit or decoded, never encoded, and giving bit-for-bit the values of the plain walk
/// (`TreeNodes.leaf(for:)`), summed in the same tree order.
///
/// Prediction on deep trees is bound by memory latency (every level is a dependent load), so the
/// layout and the walk are built to keep loads small and independent:
/// - 16-byte nodes with the two children of a node side by side (`right == left + 1`), laid out
///   depth first so that a node's children usually share its cache line; every tree's nodes sit
///   in one buffer (on huge pages on Linux when large), leaf values in another, leaves only.
/// - A step is branch-free: `node = left + (x[feature] <= threshold ? 0 : 1)`. Missing values
///   need no test: a row is copied once, twice over (`[row | row with NaN as -infinity]`); a node
///   whose missing values go left reads the second copy, where NaN is `-infinity`, which is
///   `<=` every threshold, while NaN in the first copy is `<=` none.
/// - A leaf loops onto itself: its threshold is a NaN (nothing is `<=` it, so the walk takes
///   `left + 1`, and `left` is the leaf's own index minus 1), and the NaN's payload is the leaf's
///   slot in the value buffer. A finished walk just stays put, so many walks run in lockstep,
///   16 trees for one row or 8 rows through one tree, their loads overlapping instead of queueing.
struct PackedForest: Sendable {
    /// One node: a split, or a leaf as described above.
    struct Node {
        var threshold: Double
        /// The value to compare in the doubled row: the feature, plus `width` when missing values go left.
        var feature: UInt32
        /// The left child; the right one is `left + 1`.
        var left: UInt32
    }

    private let storage: Storage
    /// Each tree's root, in tree order.
    private let roots: [UInt32]
    /// Features a row must hold: one more than the largest split feature.
    let width: Int
    /// Values per leaf.
    let outputCount: Int
    /// Tree `t` adds to output block `t % outputsPerRound` (the classes of a softmax boosting round), 1 otherwise.
    let outputsPerRound: Int

    var treeCount: Int { roots.count }
    /// Values per row of output: `outputsPerRound × outputCount`.
    var rowWidth: Int { outputsPerRound * outputCount }

    /// An empty forest (an unfitted model).
    init() {
        storage = Storage(nodes: [], leafValues: [])
        roots = []
        width = 0
        outputCount = 0
        outputsPerRound = 1
    }

    /// Packs `trees`, whose leaves carry `outputCount` values each; tree `t` adds to output block
    /// `t % outputsPerRound`.
    init(_ trees: [TreeNodes], outputCount: Int, outputsPerRound: Int = 1) {
        let width = trees.map(\.requiredWidth).max() ?? 0
        var nodes: [Node] = []
        var leafValues: [Double] = []
        var roots: [UInt32] = []
        nodes.reserveCapacity(trees.reduce(0) { $0 + max($1.nodeCount, 1) })
        for tree in trees {
            roots.append(UInt32(nodes.count))
            PackedForest.append(tree, outputCount: outputCount, width: width, nodes: &nodes, leafValues: &leafValues)
        }
        // invariant: indices are UInt32; a forest of 2^32 nodes would need 64 GB for this copy alone.
        precondition(nodes.count < Int(UInt32.max), "too many tree nodes to pack")
        storage = Storage(nodes: nodes, leafValues: leafValues)
        self.roots = roots
        self.width = width
        self.outputCount = outputCount
        self.outputsPerRound = max(outputsPerRound, 1)
    }

    /// Packs a boosted ensemble: iteration by iteration, one tree per output in each.
    init(boosted ensemble: GradientBoostingEnsemble) {
        self.init(ensemble.trees.flatMap { $0 }, outputCount: 1, outputsPerRound: ensemble.baseline.count)
    }

    /// Appends one tree depth first, children allocated in pairs.
    private static func append(_ tree: TreeNodes, outputCount: Int, width: Int, nodes: inout [Node], leafValues: inout [Double]) {
        func leaf(at slot: Int, values: ArraySlice<Double>) {
            let index = leafValues.count / max(outputCount, 1)
            leafValues.append(contentsOf: values)
            nodes[slot] = Node(threshold: Double(bitPattern: leafPattern | UInt64(index)), feature: 0, left: UInt32(truncatingIfNeeded: slot - 1))
        }
        nodes.append(Node(threshold: 0, feature: 0, left: 0))
        guard tree.nodeCount > 0 else {
            // An empty tree (never fit) answers zeros, as it has no leaf to read.
            leaf(at: nodes.count - 1, values: ArraySlice(repeating: 0, count: outputCount))
            return
        }
        var stack = [(node: 0, slot: nodes.count - 1)]
        while let (node, slot) = stack.popLast() {
            let n = tree.nodes[node]
            if n.feature < 0 {
                leaf(at: slot, values: tree.values[(node * outputCount)..<((node + 1) * outputCount)])
                continue
            }
            var left = Int(n.left), right = Int(n.right)
            var threshold = n.threshold, missingLeft = n.missingGoesLeft
            if threshold.isNaN && missingLeft {
                // Only a missing value goes left: swap the children so that only it goes right.
                swap(&left, &right)
                threshold = .infinity
                missingLeft = false
            }
            let pair = nodes.count
            nodes.append(Node(threshold: 0, feature: 0, left: 0))
            nodes.append(Node(threshold: 0, feature: 0, left: 0))
            nodes[slot] = Node(threshold: threshold, feature: UInt32(Int(n.feature) + (missingLeft ? width : 0)), left: UInt32(pair))
            stack.append((right, pair + 1))
            stack.append((left, pair))
        }
    }

    /// A quiet NaN; its low 51 bits hold a leaf's slot.
    private static let leafPattern: UInt64 = 0x7FF8_0000_0000_0000
    private static let slotMask: UInt64 = 0x0007_FFFF_FFFF_FFFF

    /// Rows per block in batch prediction. Small trees (boosting's) all stay in cache, so a small
    /// block keeps the rows in cache too (64 rows took about 8% less CPU than 256); large trees
    /// are read back from memory for every block, so a block of about 1 MB of doubled rows pays
    /// that once for thousands of rows.
    var blockRows: Int {
        let forestBytes = storage.nodeCount * MemoryLayout<Node>.stride + storage.leafValueCount * MemoryLayout<Double>.stride
        if forestBytes <= 256 << 10 { return 64 }
        return min(8192, max(256, (1 << 20) / (16 * max(width, 1))))
    }
}

// MARK: - Walking

extension PackedForest {
    @inline(__always)
    private static func step(_ nodes: UnsafePointer<Node>, _ i: UInt32, _ x: UnsafePointer<Double>) -> UInt32 {
        let n = nodes[Int(i)]
        return n.left &+ (x[Int(n.feature)] <= n.threshold ? 0 : 1)
    }

    /// Adds the `k` values of the leaf at `i` to `out`.
    @inline(__always)
    private static func add(_ nodes: UnsafePointer<Node>, _ i: UInt32, _ values: UnsafePointer<Double>, _ k: Int,
                            to out: UnsafeMutablePointer<Double>) {
        let v = values + Int(truncatingIfNeeded: nodes[Int(i)].threshold.bitPattern & slotMask) &* k
        if k == 1 {
            out[0] += v[0]
            return
        }
        var c = 0
        while c < k {
            out[c] += v[c]
            c &+= 1
        }
    }

    /// Writes `row`'s first `width` values and then the same with NaN as `-infinity` into `doubled`
    /// (`2 × max(width, 1)` values; a leaf reads index 0 even when no tree splits).
    @inline(__always)
    private func double(_ row: UnsafeBufferPointer<Double>, into doubled: UnsafeMutablePointer<Double>) {
        // A row without storage can only meet trees that never read it (width 0).
        guard width > 0, let x = row.baseAddress else { doubled[0] = 0; doubled[1] = 0; return }
        for c in 0..<width {
            let v = x[c]
            doubled[c] = v
            doubled[width + c] = v.isNaN ? -.infinity : v
        }
    }

    /// Adds each tree's leaf values for one row to `out` (`rowWidth` values), tree by tree in
    /// order. A row shorter than `width` stops the program rather than read past its end.
    func accumulate(row: UnsafeBufferPointer<Double>, into out: UnsafeMutablePointer<Double>) {
        let k = outputCount, cycle = outputsPerRound, treeCount = roots.count
        guard treeCount > 0 else { return }
        precondition(row.count >= width, "the row has too few features for this model")
        let nodes = UnsafePointer(storage.nodes), values = UnsafePointer(storage.leafValues)
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * max(width, 1)) { buffer in
            // invariant: the capacity is at least 2, so the allocation has a base address.
            let doubled = buffer.baseAddress!
            double(row, into: doubled)
            let x = UnsafePointer(doubled)
            roots.withUnsafeBufferPointer { roots in
                var column = 0
                var t = 0
                while t < treeCount {
                    // 16 trees in lockstep; a last short group repeats its last tree in the spare lanes.
                    let count = min(16, treeCount - t)
                    let last = t + count - 1
                    var i0 = roots[t], i1 = roots[min(t + 1, last)], i2 = roots[min(t + 2, last)], i3 = roots[min(t + 3, last)]
                    var i4 = roots[min(t + 4, last)], i5 = roots[min(t + 5, last)], i6 = roots[min(t + 6, last)], i7 = roots[min(t + 7, last)]
                    var i8 = roots[min(t + 8, last)], i9 = roots[min(t + 9, last)], i10 = roots[min(t + 10, last)], i11 = roots[min(t + 11, last)]
                    var i12 = roots[min(t + 12, last)], i13 = roots[min(t + 13, last)], i14 = roots[min(t + 14, last)], i15 = roots[min(t + 15, last)]
                    // Hand-unrolled so the 16 positions stay in registers (a loop over a scratch buffer measured ~30% slower).
                    while true {
                        let n0 = Self.step(nodes, i0, x), n1 = Self.step(nodes, i1, x), n2 = Self.step(nodes, i2, x), n3 = Self.step(nodes, i3, x)
                        let n4 = Self.step(nodes, i4, x), n5 = Self.step(nodes, i5, x), n6 = Self.step(nodes, i6, x), n7 = Self.step(nodes, i7, x)
                        let n8 = Self.step(nodes, i8, x), n9 = Self.step(nodes, i9, x), n10 = Self.step(nodes, i10, x), n11 = Self.step(nodes, i11, x)
                        let n12 = Self.step(nodes, i12, x), n13 = Self.step(nodes, i13, x), n14 = Self.step(nodes, i14, x), n15 = Self.step(nodes, i15, x)
                        let moved = (n0 ^ i0) | (n1 ^ i1) | (n2 ^ i2) | (n3 ^ i3) | (n4 ^ i4) | (n5 ^ i5) | (n6 ^ i6) | (n7 ^ i7)
                            | (n8 ^ i8) | (n9 ^ i9) | (n10 ^ i10) | (n11 ^ i11) | (n12 ^ i12) | (n13 ^ i13) | (n14 ^ i14) | (n15 ^ i15)
                        (i0, i1, i2, i3, i4, i5, i6, i7) = (n0, n1, n2, n3, n4, n5, n6, n7)
                        (i8, i9, i10, i11, i12, i13, i14, i15) = (n8, n9, n10, n11, n12, n13, n14, n15)
                        if moved == 0 { break }
                    }
                    let leaves = (i0, i1, i2, i3, i4, i5, i6, i7, i8, i9, i10, i11, i12, i13, i14, i15)
                    withUnsafeBytes(of: leaves) { raw in
                        let leaf = raw.bindMemory(to: UInt32.self)
                        for j in 0..<count {
                            Self.add(nodes, leaf[j], values, k, to: out + column * k)
                            column += 1
                            if column == cycle { column = 0 }
                        }
                    }
                    t += count
                }
            }
        }
    }

    /// Adds each tree's leaf values to the rows `rows` of `x` (row-major, `columns` per row) into
    /// `out` (`rowWidth` values per row, starting with row `rows.lowerBound`), tree by tree: tree-major
    /// over the block, so each tree stays in cache while it walks every row, and each row still
    /// sums its trees in order.
    func accumulate(rows: Range<Int>, of x: UnsafeBufferPointer<Double>, columns: Int, into out: UnsafeMutablePointer<Double>) {
        let k = outputCount, cycle = outputsPerRound, stride = rowWidth
        let treeCount = roots.count
        guard treeCount > 0, !rows.isEmpty else { return }
        precondition(columns >= width && x.count >= rows.upperBound * columns, "the rows have too few features for this model")
        let nodes = UnsafePointer(storage.nodes), values = UnsafePointer(storage.leafValues)
        let doubledWidth = 2 * max(width, 1)
        let doubled = UnsafeMutablePointer<Double>.allocate(capacity: rows.count * doubledWidth)
        defer { doubled.deallocate() }
        for r in rows {
            double(UnsafeBufferPointer(rebasing: x[(r * columns)..<((r + 1) * columns)]), into: doubled + (r - rows.lowerBound) * doubledWidth)
        }
        let count = rows.count
        roots.withUnsafeBufferPointer { roots in
            var column = 0
            for t in 0..<treeCount {
                let root = roots[t]
                let o = out + column * k
                var r = 0
                while r < count {
                    // 8 rows in lockstep; a last short group repeats its last row in the spare lanes.
                    let lanes = min(8, count - r)
                    let last = r + lanes - 1
                    let x0 = UnsafePointer(doubled + r * doubledWidth)
                    let x1 = UnsafePointer(doubled + min(r + 1, last) * doubledWidth)
                    let x2 = UnsafePointer(doubled + min(r + 2, last) * doubledWidth)
                    let x3 = UnsafePointer(doubled + min(r + 3, last) * doubledWidth)
                    let x4 = UnsafePointer(doubled + min(r + 4, last) * doubledWidth)
                    let x5 = UnsafePointer(doubled + min(r + 5, last) * doubledWidth)
                    let x6 = UnsafePointer(doubled + min(r + 6, last) * doubledWidth)
                    let x7 = UnsafePointer(doubled + min(r + 7, last) * doubledWidth)
                    var i0 = root, i1 = root, i2 = root, i3 = root, i4 = root, i5 = root, i6 = root, i7 = root
                    // Two steps per test of whether all have stopped: the test costs as much as a step.
                    while true {
                        i0 = Self.step(nodes, i0, x0); i1 = Self.step(nodes, i1, x1); i2 = Self.step(nodes, i2, x2); i3 = Self.step(nodes, i3, x3)
                        i4 = Self.step(nodes, i4, x4); i5 = Self.step(nodes, i5, x5); i6 = Self.step(nodes, i6, x6); i7 = Self.step(nodes, i7, x7)
                        let n0 = Self.step(nodes, i0, x0), n1 = Self.step(nodes, i1, x1), n2 = Self.step(nodes, i2, x2), n3 = Self.step(nodes, i3, x3)
                        let n4 = Self.step(nodes, i4, x4), n5 = Self.step(nodes, i5, x5), n6 = Self.step(nodes, i6, x6), n7 = Self.step(nodes, i7, x7)
                        let moved = (n0 ^ i0) | (n1 ^ i1) | (n2 ^ i2) | (n3 ^ i3) | (n4 ^ i4) | (n5 ^ i5) | (n6 ^ i6) | (n7 ^ i7)
                        (i0, i1, i2, i3, i4, i5, i6, i7) = (n0, n1, n2, n3, n4, n5, n6, n7)
                        if moved == 0 { break }
                    }
                    let row = o + r * stride
                    if lanes == 8 {
                        Self.add(nodes, i0, values, k, to: row)
                        Self.add(nodes, i1, values, k, to: row + stride)
                        Self.add(nodes, i2, values, k, to: row + 2 * stride)
                        Self.add(nodes, i3, values, k, to: row + 3 * stride)
                        Self.add(nodes, i4, values, k, to: row + 4 * stride)
                        Self.add(nodes, i5, values, k, to: row + 5 * stride)
                        Self.add(nodes, i6, values, k, to: row + 6 * stride)
                        Self.add(nodes, i7, values, k, to: row + 7 * stride)
                    } else {
                        withUnsafeBytes(of: (i0, i1, i2, i3, i4, i5, i6, i7)) { raw in
                            let leaf = raw.bindMemory(to: UInt32.self)
                            for j in 0..<lanes { Self.add(nodes, leaf[j], values, k, to: row + j * stride) }
                        }
                    }
                    r += lanes
                }
                column += 1
                if column == cycle { column = 0 }
            }
        }
    }
}

// MARK: - Storage

extension PackedForest: Hashable {
    /// Always equal: a pack is derived from its model's trees, which the model's own equality
    /// already compares, so it must not make two equal models unequal.
    static func == (lhs: PackedForest, rhs: PackedForest) -> Bool { true }
    func hash(into hasher: inout Hasher) {}
}

extension PackedForest {
    /// The node and leaf-value buffers, written once at init and only read afterwards.
    ///
    /// `@unchecked Sendable`: the buffers are never written after `init`. They are allocated by
    /// hand (not arrays) so that a large forest can sit on 2 MB pages: a single row's walk
    /// touches a few nodes in each of hundreds of 4 KB pages, and their TLB misses cost about a
    /// third of the time.
    final class Storage: @unchecked Sendable {
        let nodes: UnsafeMutablePointer<Node>
        let leafValues: UnsafeMutablePointer<Double>
        let nodeCount: Int
        let leafValueCount: Int
        private let nodeMemory: Memory
        private let valueMemory: Memory

        init(nodes source: [Node], leafValues sourceValues: [Double]) {
            nodeMemory = Memory(bytes: source.count * MemoryLayout<Node>.stride)
            nodes = nodeMemory.start.bindMemory(to: Node.self, capacity: source.count)
            nodes.initialize(from: source, count: source.count)
            valueMemory = Memory(bytes: sourceValues.count * MemoryLayout<Double>.stride)
            leafValues = valueMemory.start.bindMemory(to: Double.self, capacity: sourceValues.count)
            leafValues.initialize(from: sourceValues, count: sourceValues.count)
            nodeCount = source.count
            leafValueCount = sourceValues.count
        }

        deinit {
            nodeMemory.release()
            valueMemory.release()
        }
    }

    /// Raw memory, 16-byte aligned; on Linux, large blocks are fresh mappings advised onto
    /// transparent huge pages (malloc may hand back pages already touched, which the advice no
    /// longer turns into huge pages).
    private struct Memory {
        let start: UnsafeMutableRawPointer
        /// The mapping to unmap, or nil for malloc'd memory.
        private let mapping: (base: UnsafeMutableRawPointer, length: Int)?

        private static let hugePage = 1 << 21

        init(bytes: Int) {
            #if os(Linux)
            if bytes >= 2 * Memory.hugePage {
                let length = (bytes + Memory.hugePage - 1) / Memory.hugePage * Memory.hugePage + Memory.hugePage
                if let base = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), base != MAP_FAILED {
                    let offset = (Memory.hugePage - Int(bitPattern: base) % Memory.hugePage) % Memory.hugePage
                    start = base + offset
                    mapping = (base, length)
                    // Advice only: without transparent huge pages this changes nothing.
                    _ = madvise(start, length - offset, MADV_HUGEPAGE)
                    return
                }
            }
            #endif
            guard let memory = malloc(max(bytes, 16)) else { preconditionFailure("out of memory packing a forest of \(bytes) bytes") }
            start = memory
            mapping = nil
        }

        func release() {
            if let mapping {
                #if os(Linux)
                munmap(mapping.base, mapping.length)
                #endif
            } else {
                free(start)
            }
        }
    }
}
