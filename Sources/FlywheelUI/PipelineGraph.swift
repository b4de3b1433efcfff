import FlywheelCore
import Foundation

/// A pipeline run's DAG as a layered SVG, left to right: each step in the column after the
/// deepest step it waits for, ordered within a column by where its upstream steps sit, coloured
/// by the state of its latest attempt. A `for_each` step's instances are one node (`train ×50`);
/// above `maxNodes` the widest columns fold into one node each until the graph fits, so a
/// 1,000-step run still draws — never an empty graph.
struct PipelineGraph {
    /// A box: one step, a `for_each` step's instances, or a folded column.
    struct Node {
        var label: String
        /// The step names (as recorded in attempts, `name[3]` for instances) it stands for.
        var steps: [String]
        var state: String
        var failed = 0
        var running = 0
        var layer = 0
        /// A step page link when the node is one recorded step.
        var single: String?
        /// A slot an edge passes through on its way across columns (not drawn as a box).
        var virtual = false
    }

    var nodes: [Node] = []
    var edges: [(Int, Int)] = []
    /// Each edge as drawn: its source, the slots it passes in the columns between, its target.
    var routes: [[Int]] = []
    var layers: [[Int]] = []
    /// Steps folded into column nodes (0 when nothing folded).
    var folded = 0

    static let maxNodes = 200

    /// The boxes drawn (not the slots edges pass through).
    var boxes: Int { nodes.filter { !$0.virtual }.count }

    /// - Parameters:
    ///   - spec: each step's name and the steps it waits for, in spec order; nil when the spec
    ///     could not be read (then every recorded step is drawn, without edges).
    ///   - latest: each recorded step's latest attempt.
    init(spec: [(name: String, upstream: [String])]?, latest: [String: StepAttempt]) {
        // Recorded steps by their spec step: `train[3]` belongs to `train`.
        var instances: [String: [StepAttempt]] = [:]
        for (name, a) in latest { instances[Self.base(name), default: []].append(a) }
        var order = spec ?? []
        let known = Set(order.map(\.name))
        for name in instances.keys.sorted() where !known.contains(name) { order.append((name, [])) }

        var index: [String: Int] = [:]
        for (i, s) in order.enumerated() {
            index[s.name] = i
            let attempts = instances[s.name] ?? []
            var node = Node(label: s.name, steps: attempts.map(\.step).sorted(), state: Self.state(attempts))
            node.failed = attempts.filter { $0.status == .failed || $0.status == .timedOut }.count
            node.running = attempts.filter { $0.status == .running }.count
            if attempts.count > 1 || attempts.first.map({ $0.step != s.name }) == true { node.label += " ×\(attempts.count)" }
            if attempts.count == 1 { node.single = attempts[0].step }
            nodes.append(node)
        }
        for (i, s) in order.enumerated() {
            for up in s.upstream { if let j = index[up], j != i { edges.append((j, i)) } }
        }
        // Column = 1 + the deepest upstream column (memoised; a cycle, which the checker refuses,
        // cannot loop here).
        var upstream = [[Int]](repeating: [], count: nodes.count)
        for (a, b) in edges { upstream[b].append(a) }
        var depth = [Int?](repeating: nil, count: nodes.count)
        var visiting = Set<Int>()
        func column(_ i: Int) -> Int {
            if let d = depth[i] { return d }
            guard visiting.insert(i).inserted else { return 0 }
            let d = upstream[i].map { column($0) + 1 }.max() ?? 0
            visiting.remove(i)
            depth[i] = d
            return d
        }
        for i in nodes.indices { nodes[i].layer = column(i) }
        layers = Array(repeating: [], count: (nodes.map(\.layer).max() ?? -1) + 1)
        for i in nodes.indices { layers[nodes[i].layer].append(i) }
        if nodes.count > Self.maxNodes { fold() }
        route()
        orderColumns()
    }

    /// `train[12]` → `train`.
    static func base(_ step: String) -> String {
        guard step.hasSuffix("]"), let open = step.lastIndex(of: "[") else { return step }
        return String(step[..<open])
    }

    /// States from worst to best: a node of several steps shows the first any of them is in.
    static let worstFirst: [String] = [StepStatus.failed, .timedOut, .running, .cancelled, .skipped, .succeeded].map(\.rawValue)

    /// The worst of `states`; `waiting` when there are none (no step has started).
    static func worst(_ states: [String]) -> String {
        worstFirst.first { states.contains($0) } ?? "waiting"
    }

    static func state(_ attempts: [StepAttempt]) -> String { worst(attempts.map(\.status.rawValue)) }

    /// Folds the widest columns, one at a time, into a single node each until the graph fits.
    mutating func fold() {
        var count = nodes.count
        var byWidth = layers.indices.sorted { layers[$0].count > layers[$1].count }
        var foldLayers = Set<Int>()
        while count > Self.maxNodes, let l = byWidth.first, layers[l].count > 1 {
            byWidth.removeFirst()
            foldLayers.insert(l)
            count -= layers[l].count - 1
        }
        var remap = [Int](repeating: 0, count: nodes.count)
        var newNodes: [Node] = []
        var newLayers = [[Int]](repeating: [], count: layers.count)
        for (l, members) in layers.enumerated() {
            if foldLayers.contains(l) {
                let parts = members.map { nodes[$0] }
                let steps = parts.flatMap(\.steps)
                var node = Node(label: "\(members.count) steps", steps: steps, state: Self.worst(parts.map(\.state)))
                node.failed = parts.map(\.failed).reduce(0, +)
                node.running = parts.map(\.running).reduce(0, +)
                node.layer = l
                folded += members.count
                for m in members { remap[m] = newNodes.count }
                newLayers[l].append(newNodes.count)
                newNodes.append(node)
            } else {
                for m in members {
                    remap[m] = newNodes.count
                    newLayers[l].append(newNodes.count)
                    newNodes.append(nodes[m])
                }
            }
        }
        var seen = Set<Int>()
        edges = edges.compactMap { a, b in
            let e = (remap[a], remap[b])
            guard e.0 != e.1, seen.insert(e.0 << 20 | e.1).inserted else { return nil }
            return e
        }
        nodes = newNodes
        layers = newLayers
    }

    /// An edge that skips columns gets a slot in each column it crosses, ordered with the boxes,
    /// so it runs between them instead of through them.
    mutating func route() {
        var segments: [(Int, Int)] = []
        routes = []
        for (a, b) in edges {
            var chain = [a]
            var previous = a
            for l in (nodes[a].layer + 1)..<max(nodes[b].layer, nodes[a].layer + 1) {
                let slot = nodes.count
                nodes.append(Node(label: "", steps: [], state: "", layer: l, virtual: true))
                layers[l].append(slot)
                segments.append((previous, slot))
                chain.append(slot)
                previous = slot
            }
            segments.append((previous, b))
            chain.append(b)
            routes.append(chain)
        }
        edges = segments
    }

    /// The first column keeps spec order; each next one sorts by the mean row of its upstream
    /// nodes (one barycentre sweep: few crossings for the shapes pipelines have).
    mutating func orderColumns() {
        var row = [Double](repeating: 0, count: nodes.count)
        var upstream = [[Int]](repeating: [], count: nodes.count)
        for (a, b) in edges { upstream[b].append(a) }
        for l in layers.indices {
            if l > 0 {
                let mean = { (i: Int) -> Double in
                    let ups = upstream[i]
                    return ups.isEmpty ? Double(i) : ups.map { row[$0] }.reduce(0, +) / Double(ups.count)
                }
                layers[l] = layers[l].enumerated().sorted { (mean($0.element), $0.offset) < (mean($1.element), $1.offset) }.map(\.element)
            }
            for (r, i) in layers[l].enumerated() { row[i] = Double(r) }
        }
    }

    static let nodeWidth = 144, nodeHeight = 28, columnStep = 184, rowStep = 38, margin = 8

    /// The SVG; a node of one step links to its page, a grouped node to the step table.
    func svg(run: PipelineRunID) -> Fragment {
        var position = [(x: Int, y: Int)](repeating: (0, 0), count: nodes.count)
        let tallest = layers.map(\.count).max() ?? 1
        for (l, members) in layers.enumerated() {
            let offset = (tallest - members.count) * Self.rowStep / 2
            for (r, i) in members.enumerated() {
                position[i] = (Self.margin + l * Self.columnStep, Self.margin + offset + r * Self.rowStep)
            }
        }
        let width = Self.margin * 2 + max(layers.count, 1) * Self.columnStep - (Self.columnStep - Self.nodeWidth)
        let height = Self.margin * 2 + max(tallest, 1) * Self.rowStep - (Self.rowStep - Self.nodeHeight)
        var h = HTML(capacity: 256 + nodes.count * 260 + edges.count * 60)
        h.raw("<svg class=\"dag\" xmlns=\"http://www.w3.org/2000/svg\"")
        h.attribute("width", String(width))
        h.attribute("height", String(height))
        h.attribute("viewBox", "0 0 \(width) \(height)")
        h.raw(" role=\"img\" aria-label=\"pipeline graph\">")
        let half = Self.nodeHeight / 2
        for chain in routes {
            // One path per edge: a curve into each column, straight across a slot it passes.
            var d = ""
            for (a, b) in zip(chain, chain.dropFirst()) {
                let (x1, y1) = (position[a].x + Self.nodeWidth, position[a].y + half)
                let (x2, y2) = (position[b].x, position[b].y + half)
                let mid = (x1 + x2) / 2
                if d.isEmpty { d = "M\(x1) \(y1)" }
                d += "C\(mid) \(y1) \(mid) \(y2) \(x2) \(y2)"
                if nodes[b].virtual { d += "H\(x2 + Self.nodeWidth)" }
            }
            h.raw("<path")
            h.attribute("d", d)
            h.raw("/>")
        }
        for (i, n) in nodes.enumerated() where !n.virtual {
            let link =
                n.single.map { Link.pipelineStep(run, $0) }
                ?? Link(path: ["pipelines", "runs", run.rawValue], query: [("steps", "all")], fragment: "steps")
            h.raw("<a")
            h.attribute("href", link.href)
            h.attribute("class", n.state)
            h.raw("><title>")
            h.text(n.steps.count > 1 ? "\(n.label): \(n.failed) failed, \(n.running) running" : "\(n.label): \(n.state)")
            h.raw("</title><rect rx=\"5\"")
            h.attribute("x", String(position[i].x))
            h.attribute("y", String(position[i].y))
            h.attribute("width", String(Self.nodeWidth))
            h.attribute("height", String(Self.nodeHeight))
            h.raw("/><text")
            h.attribute("x", String(position[i].x + 9))
            h.attribute("y", String(position[i].y + half + 4))
            h.raw(">")
            var label = n.label
            if n.failed > 0, n.steps.count > 1 { label += " · \(n.failed) failed" }
            h.text(label.count > 21 ? String(label.prefix(20)) + "…" : label)
            h.raw("</text></a>")
        }
        h.raw("</svg>")
        return Fragment(h)
    }
}
