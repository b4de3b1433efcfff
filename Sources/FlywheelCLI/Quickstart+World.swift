import FlywheelCore
import Foundation

/// The quickstart's world: a subscription business whose customers churn or stay, generated
/// from a seed so every run sees the same data. Before the shift, customers who call support
/// often, pay more and are on monthly contracts churn; after it, the business has fixed its
/// support and raised prices, so the customers are different (newer, paying more, calling more)
/// and so is what makes them leave (calling support now means a fixed problem; price drives it).
struct ChurnWorld {
    static let features = ["tenure_months", "monthly_charges", "support_calls", "contract"]
    static let target = "churn"

    struct Customer {
        /// The customer's key in this world: its prefix and number, zero-padded so that keys sort
        /// in the order the customers came. Sent as `x-customer-id` (the sticky header) and as
        /// `x-request-id`, so that log entries of the same millisecond sort in that order too.
        var key: String
        var tenure: Double
        var charges: Double
        var calls: Double
        var contract: String
        var churn: String

        var record: [String: JSONValue] {
            ["tenure_months": .number(tenure), "monthly_charges": .number(charges), "support_calls": .number(calls), "contract": .string(contract)]
        }
        var csv: String { "\(Int(tenure)),\(String(format: "%.2f", charges)),\(Int(calls)),\(contract),\(churn)" }
    }

    var random: SeededRandom
    /// Starts every customer key; worlds sharing a server need different ones.
    let prefix: String
    /// The next customer's number.
    var next = 1

    init(seed: UInt64, prefix: String = "c") {
        random = SeededRandom(seed: seed)
        self.prefix = prefix
    }

    mutating func normal() -> Double {
        // Box–Muller.
        let u = max(random.unit(), 1e-12), v = random.unit()
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }

    mutating func poisson(_ mean: Double) -> Double {
        let limit = exp(-mean)
        var k = 0.0, p = 1.0
        repeat {
            k += 1
            p *= random.unit()
        } while p > limit
        return k - 1
    }

    /// One customer; `shifted` draws from the changed world.
    mutating func customer(shifted: Bool) -> Customer {
        let tenure = shifted ? Double(1 + random.below(24)) : Double(1 + random.below(72))
        let mean: Double = shifted ? 88 : 65
        let charges = min(max(mean + 18 * normal(), 20), 150)
        let calls = poisson(shifted ? 3.2 : 1.5)
        let u = random.unit()
        let contract = shifted ? (u < 0.7 ? "monthly" : u < 0.9 ? "annual" : "two_year") : (u < 0.5 ? "monthly" : u < 0.8 ? "annual" : "two_year")
        let effects: [String: Double] = ["monthly": 0.9, "annual": -0.3, "two_year": -1.4]
        let contractEffect = effects[contract] ?? 0
        var logit: Double
        if shifted {
            logit = 1.0 - 1.1 * (calls - 3.2)
            logit += 0.09 * (charges - 88) - 0.05 * tenure
            logit += 0.3 * contractEffect
        } else {
            logit = -0.6 + 1.3 * (calls - 1.5)
            logit += 0.05 * (charges - 65) - 0.06 * (tenure - 36)
            logit += contractEffect
        }
        let churn = random.unit() < 1 / (1 + exp(-logit)) ? "yes" : "no"
        defer { next += 1 }
        let number = String(next)
        return Customer(key: prefix + String(repeating: "0", count: max(0, 7 - number.count)) + number, tenure: tenure, charges: charges, calls: calls, contract: contract, churn: churn)
    }

    mutating func csv(rows: Int, shifted: Bool) -> String {
        var text = (Self.features + [Self.target]).joined(separator: ",") + "\n"
        for _ in 0..<rows { text += customer(shifted: shifted).csv + "\n" }
        return text
    }
}

/// The files the quickstart writes for the user to read and edit.
enum QuickstartFiles {
    static let pipeline = """
        # The churn model's training pipeline: load → validate → split → train → evaluate → gate → register.
        # The gate lets a new model through only if it beats the one in production on the same
        # held-out rows, so retraining never makes things worse.
        #   flywheel run pipeline.yaml                       # on data/churn.csv
        #   flywheel run pipeline.yaml -p data=data/labelled.csv
        pipeline: churn
        params: {data: data/churn.csv, min_accuracy: 0.65, n_trees: 40}
        steps:
          load:     {uses: data/load, with: {path: "${{ params.data }}"}}
          validate: {uses: data/validate, with: {data: "${{ steps.load.outputs.table }}", schema: schema.yaml}}
          split:    {uses: data/split, with: {data: "${{ steps.load.outputs.table }}", test_size: 0.25, stratify: churn, seed: 7}}
          train:
            needs: [validate]
            uses: learn/train
            with: {data: "${{ steps.split.outputs.train }}", target: churn, model: random_forest,
                   hyperparameters: {n_trees: "${{ params.n_trees }}", max_depth: 8, seed: 7}}
          evaluate: {uses: learn/evaluate, with: {model: "${{ steps.train.outputs.model }}", data: "${{ steps.split.outputs.test }}"}}
          gate:
            uses: gate
            with: {metrics: "${{ steps.evaluate.outputs.metrics }}", require: {accuracy: ">= ${{ params.min_accuracy }}"},
                   beat: {model: churn@production, metric: accuracy}, data: "${{ steps.split.outputs.test }}"}
          register:
            if: "${{ steps.gate.outputs.passed }}"
            uses: registry/register
            with: {model: "${{ steps.train.outputs.model }}", name: churn, alias: candidate}

        """

    static let schema = """
        # What the churn data must look like; data/validate checks every training set against it.
        columns:
          - {name: tenure_months, type: numeric, nullable: false, min: 0, max: 600}
          - {name: monthly_charges, type: numeric, nullable: false, min: 0, max: 1000}
          - {name: support_calls, type: numeric, nullable: false, min: 0, max: 100}
          - {name: contract, type: categorical, nullable: false, categories: [monthly, annual, two_year]}
          - {name: churn, type: categorical, nullable: false, categories: ["yes", "no"]}

        """

    static func deployment(canary: Int?) -> String {
        let routes = canary.map { "[{model: churn@production, weight: \(100 - $0)}, {model: churn@candidate, weight: \($0)}]" }
            ?? "[{model: churn@production}]"
        return """
            # Which model versions answer POST /predict/churn; a canary sends a share of traffic to the candidate.
            deployment: churn
            routes: \(routes)
            sticky: {header: x-customer-id}   # a customer always meets the same version while the weights stand
            log: {sample_rate: 1.0, redact: [email, phone, card]}
            review_below_confidence: 0.55

            """
    }

    static let monitor = """
        # Watches what the churn deployment sees against its training data, and its accuracy from
        # feedback labels; when either slips, it retrains on the newly labelled traffic.
        monitor: churn-watch
        deployment: churn
        every: 1h
        window: 1h
        reference: training
        performance: {metric: accuracy, min: 0.7, min_labels: 50}
        cooldown: 10m
        on_alert: [{run_pipeline: churn, params: {data: data/labelled.csv}}]

        """
}
