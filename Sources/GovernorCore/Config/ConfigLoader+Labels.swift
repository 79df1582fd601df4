/// `labels = KEY=VALUE, …` in `[Governor]` (every school's defaults) and `[School]`.
extension ConfigLoader {
    static func readLabels(_ reader: inout SectionReader) -> SchoolLabels {
        var labels = SchoolLabels()
        var lines: [String: Int] = [:]
        for piece in reader.list("labels") {
            switch SchoolLabels.parse(piece.text) {
            case .failure(let problem):
                reader.error(problem.message, line: piece.line)
            case .success(let label):
                if let first = lines[label.key] {
                    reader.error("label '\(label.key)' is given twice (lines \(first) and \(piece.line))", line: piece.line)
                } else if labels.labels.count == SchoolLabels.maxCount {
                    reader.error("more than \(SchoolLabels.maxCount) labels", line: piece.line)
                } else {
                    lines[label.key] = piece.line
                    labels[label.key] = label.value
                }
            }
        }
        return labels
    }
}
