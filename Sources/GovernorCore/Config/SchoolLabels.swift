/// A school's labels (`labels = district=north-7, isp=acme-telecom`): what the
/// operator knows of it that the governor groups by. An ISP outage takes down the
/// schools sharing `isp`, so incidents are found by label; every alert carries them,
/// so Alertmanager can route and group by them.
///
/// Keys follow Prometheus's label-name syntax, so that they pass to Alertmanager as
/// they are; values are one word each (the list is split on commas and spaces).
/// Order is kept: the first key is the first an incident groups by.
public struct SchoolLabels: Sendable, Hashable, Sequence, CustomStringConvertible {
    public struct Label: Sendable, Hashable, CustomStringConvertible {
        public var key: String
        public var value: String

        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }

        public var description: String { "\(key)=\(value)" }
    }

    public private(set) var labels: [Label] = []

    public init() {}

    public init(_ labels: [Label]) {
        for label in labels { self[label.key] = label.value }
    }

    public subscript(key: String) -> String? {
        get { labels.first { $0.key == key }?.value }
        set {
            if let index = labels.firstIndex(where: { $0.key == key }) {
                if let newValue { labels[index].value = newValue } else { labels.remove(at: index) }
            } else if let newValue {
                labels.append(Label(key: key, value: newValue))
            }
        }
    }

    public var isEmpty: Bool { labels.isEmpty }
    public var keys: [String] { labels.map(\.key) }
    public func makeIterator() -> IndexingIterator<[Label]> { labels.makeIterator() }

    /// These labels, with `defaults` for the keys they do not set (defaults' keys first).
    public func over(_ defaults: SchoolLabels) -> SchoolLabels {
        var merged = defaults
        for label in labels { merged[label.key] = label.value }
        return merged
    }

    /// As a JSON object shows them.
    public var dictionary: [String: String] {
        Dictionary(labels.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    /// `district=north-7, isp=acme-telecom`
    public var description: String { labels.map(\.description).joined(separator: ", ") }

    /// The names the governor gives its own alert labels, which a school's cannot take.
    public static let reserved: Set<String> = ["alertname", "school", "probe", "mode", "severity", "incident", "instance", "job"]

    /// The longest value, in bytes.
    public static let maxValueBytes = 128
    /// The most labels one school may carry.
    public static let maxCount = 32

    /// Why `key` cannot be a label name, or nil when it can.
    public static func problem(withKey key: String) -> String? {
        guard let first = key.unicodeScalars.first else { return "a label needs a name before '='" }
        let isLetter: (Unicode.Scalar) -> Bool = { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || $0 == "_" }
        guard isLetter(first), key.unicodeScalars.allSatisfy({ isLetter($0) || ("0"..."9").contains($0) }) else {
            return "label name '\(key)' is not valid; use letters, digits and '_', not starting with a digit (Prometheus's label names)"
        }
        if key.hasPrefix("__") { return "label name '\(key)' starts with '__', which Prometheus reserves" }
        if reserved.contains(key) { return "label name '\(key)' is the governor's own; choose another (reserved: \(reserved.sorted().joined(separator: ", ")))" }
        return nil
    }

    /// Why `value` cannot be a label value, or nil when it can.
    public static func problem(withValue value: String, key: String) -> String? {
        if value.isEmpty { return "label '\(key)' has no value after '='" }
        if value.utf8.count > maxValueBytes { return "the value of label '\(key)' is longer than \(maxValueBytes) bytes" }
        if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == "=" || $0 == "\"" }) {
            return "the value of label '\(key)' has a control character, '=' or '\"'"
        }
        return nil
    }

    /// Parses one `key=value` item; the error says what is wrong with it.
    public static func parse(_ item: String) -> Result<Label, LabelError> {
        guard let equals = item.firstIndex(of: "=") else {
            return .failure(LabelError(message: "'\(item)' in labels is not KEY=VALUE (for example isp=acme-telecom)"))
        }
        let key = String(item[..<equals]), value = String(item[item.index(after: equals)...])
        if let problem = problem(withKey: key) ?? problem(withValue: value, key: key) { return .failure(LabelError(message: problem)) }
        return .success(Label(key: key, value: value))
    }

    public struct LabelError: Error, Sendable {
        public var message: String
    }
}
