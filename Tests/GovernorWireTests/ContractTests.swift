import Foundation
import GovernorCore
import GovernorWire
import Testing

/// The OpenAPI document against the wire types, both ways: a key the document
/// declares and the type does not read, or the other way round, a field required in
/// one and optional in the other, or a different kind of value, fails here.
@Suite("The wire types and the OpenAPI document agree")
struct ContractTests {
    /// The schemas of the document, each read by one wire type.
    static let names = ["Error", "NextRun", "RunLease", "ResultReport", "ResultCreated", "Result", "Measurement", "SchoolMeasurements", "MeasurementRow", "GroupRun", "ResultList", "ResultSummary", "ProbeState", "ProbeStatus", "SchoolList", "SchoolSchedule", "Health", "Run", "ProbeRow", "StatusReport", "Page", "Silence", "SilenceRequest", "SilenceCreated", "SilenceList", "Incident", "IncidentList"]

    /// The wire type that reads schema `name`.
    static func type(of name: String) -> (any Decodable.Type)? {
        switch name {
        case "Error": ErrorBody.self
        case "NextRun": NextRun.self
        case "RunLease": RunLease.self
        case "ResultReport": ResultReport.self
        case "ResultCreated": ResultCreated.self
        case "Result": ResultView.self
        case "Measurement": SpeedMeasurement.self
        case "SchoolMeasurements": SchoolMeasurements.self
        case "MeasurementRow": MeasurementRow.self
        case "GroupRun": GroupRunMeasurement.self
        case "ResultList": ResultList.self
        case "ResultSummary": ResultSummary.self
        case "ProbeState": ProbeState.self
        case "ProbeStatus": ProbeStatus.self
        case "SchoolList": SchoolList.self
        case "SchoolSchedule": ScheduleDocument.School.self
        case "Health": Health.self
        case "Run": TimelineDay.Run.self
        case "ProbeRow": ProbeRow.self
        case "StatusReport": StatusReport.self
        case "Page": StatusReport.Page.self
        case "Silence": SilenceView.self
        case "SilenceRequest": SilenceRequest.self
        case "SilenceCreated": SilenceCreated.self
        case "SilenceList": SilenceList.self
        case "Incident": IncidentView.self
        case "IncidentList": IncidentList.self
        default: nil
        }
    }

    static var document: [String: Any] {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/GovernorServer/Resources/openapi.json").path
        guard let data = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return object
    }

    static var components: [String: Any] {
        ((document["components"] as? [String: Any])?["schemas"] as? [String: Any]) ?? [:]
    }

    @Test("every schema of the document has its wire type, and every wire type its schema")
    func everySchemaHasItsType() {
        #expect(!Self.components.isEmpty, "the OpenAPI document was not read")
        let typed = Set(Self.names)
        #expect(Set(Self.components.keys).subtracting(typed).sorted() == [], "schemas without a wire type")
        #expect(typed.subtracting(Self.components.keys).sorted() == [], "wire types without a schema")
    }

    @Test("the schema and the type declare the same fields, optionality and kinds", arguments: names)
    func schemaMatchesType(name: String) throws {
        let type = try #require(Self.type(of: name))
        let components = Self.components
        let schema = try #require(components[name] as? [String: Any], "no schema '\(name)'")
        var problems: [String] = []
        Schemas(components: components).compare(try WireShape.of(type), schema, at: name, problems: &problems)
        #expect(problems == [], "\(name) and \(type):\n\(problems.joined(separator: "\n"))")
    }
}

/// The document's schemas, read once, and how a type's shape compares with them.
struct Schemas {
    let components: [String: Any]

    /// The disagreements between `shape` and `schema`, each with its path.
    func compare(_ shape: WireShape, _ schema: [String: Any], at path: String, problems: inout [String]) {
        let schema = resolved(schema)
        let kinds = Set(types(of: schema).subtracting(["null"]))
        switch shape {
        case .enumeration(let values):
            let declared = Set(((schema["enum"] as? [Any]) ?? []).compactMap { $0 as? String })
            if declared != values {
                problems.append("\(path): the type's values are \(values.sorted()), the document's \(declared.sorted())")
            }
        case .object(let fields):
            guard kinds.isEmpty || kinds == ["object"] else {
                problems.append("\(path): the type reads an object, the document says \(kinds.sorted())")
                return
            }
            let properties = (schema["properties"] as? [String: Any]) ?? [:]
            let required = Set((schema["required"] as? [String]) ?? [])
            for key in Set(fields.keys).subtracting(properties.keys).sorted() {
                problems.append("\(path).\(key): the type reads it; the document does not declare it")
            }
            for key in Set(properties.keys).subtracting(fields.keys).sorted() {
                problems.append("\(path).\(key): the document declares it; the type does not read it")
            }
            for (key, field) in fields.sorted(by: { $0.key < $1.key }) {
                guard let property = properties[key] as? [String: Any] else { continue }
                let nullable = types(of: resolved(property)).contains("null")
                if field.optional && required.contains(key) && !nullable {
                    problems.append("\(path).\(key): optional in the type, required and not nullable in the document")
                }
                if !field.optional && !required.contains(key) {
                    problems.append("\(path).\(key): required by the type, optional in the document")
                }
                if !field.optional && nullable {
                    problems.append("\(path).\(key): required by the type, nullable in the document")
                }
                compare(field.shape, property, at: "\(path).\(key)", problems: &problems)
            }
        case .array(let element):
            guard kinds == ["array"], let items = schema["items"] as? [String: Any] else {
                problems.append("\(path): the type reads an array, the document says \(kinds.sorted())")
                return
            }
            compare(element, items, at: "\(path)[]", problems: &problems)
        case .string, .integer, .number, .boolean:
            let kind = shape.description
            if schema["const"] is String && kind == "string" { return }
            if let values = schema["enum"] as? [Any] {
                problems.append("\(path): the document lists the values \(values), the type reads any \(kind)")
                return
            }
            if kinds != [kind] {
                problems.append("\(path): the type reads \(kind), the document says \(kinds.sorted())")
            }
        }
    }

    /// A schema with its `$ref` followed.
    func resolved(_ schema: [String: Any]) -> [String: Any] {
        guard let reference = schema["$ref"] as? String, let name = reference.split(separator: "/").last,
              let target = components[String(name)] as? [String: Any] else { return schema }
        return target
    }

    /// The JSON types a schema allows: its `type`, a list of them, or those of `oneOf`/`anyOf`.
    func types(of schema: [String: Any]) -> Set<String> {
        if let one = schema["type"] as? String { return [one] }
        if let many = schema["type"] as? [String] { return Set(many) }
        if let options = (schema["oneOf"] ?? schema["anyOf"]) as? [[String: Any]] {
            return options.reduce(into: Set<String>()) { $0.formUnion(types(of: resolved($1))) }
        }
        if schema["enum"] != nil || schema["const"] != nil { return ["string"] }
        return []
    }
}
