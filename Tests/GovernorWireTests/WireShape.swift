import Foundation

/// The JSON shape of a `Decodable` type, read from its own `init(from:)`: which keys
/// it decodes, which of them it takes as optional (`decodeIfPresent`), and the shape
/// of each value. This is what the type accepts on the wire, without an instance and
/// without a second description to keep by hand.
indirect enum WireShape: Equatable, CustomStringConvertible {
    case string
    case integer
    case number
    case boolean
    case enumeration(Set<String>)
    case array(WireShape)
    case object([String: Field])

    struct Field: Equatable {
        var shape: WireShape
        /// Decoded with `decodeIfPresent`: the key may be absent or null.
        var optional: Bool
    }

    var description: String {
        switch self {
        case .string: "string"
        case .integer: "integer"
        case .number: "number"
        case .boolean: "boolean"
        case .enumeration(let values): "enum \(values.sorted())"
        case .array(let element): "array of \(element)"
        case .object(let fields): "object {\(fields.keys.sorted().joined(separator: ", "))}"
        }
    }

    /// The shape `type` decodes.
    static func of<T: Decodable>(_ type: T.Type) throws -> WireShape {
        try ShapeReader.read(type).shape
    }
}

/// Samples a string field receives, in turn, until the type accepts one: a type that
/// parses its string (an RFC 3339 instant, a local date) needs a well-formed sample.
private let stringSamples = ["2026-01-05T08:00:00Z", "2026-01-05", "08:00", "x"]

/// Reads one value's shape by decoding it from nothing.
private enum ShapeReader {
    static func read<T: Decodable>(_ type: T.Type) throws -> (value: T, shape: WireShape) {
        if let shape = primitive(type), let value = sample(type, string: stringSamples[0]) { return (value, shape) }
        if let cases = type as? any CaseIterable.Type, let (value, names) = enumeration(cases, as: type) {
            return (value, .enumeration(names))
        }
        var lastError: (any Error)?
        for string in stringSamples {
            let decoder = ShapeDecoder(string: string)
            do {
                let value = try T(from: decoder)
                guard let shape = decoder.box.shape else { throw ShapeError("\(T.self) decoded nothing") }
                return (value, shape)
            } catch {
                lastError = error
            }
        }
        throw lastError ?? ShapeError("\(T.self) cannot be read")
    }

    static func primitive<T>(_ type: T.Type) -> WireShape? {
        switch type {
        case is String.Type: .string
        case is Bool.Type: .boolean
        case is Int.Type, is Int8.Type, is Int16.Type, is Int32.Type, is Int64.Type,
             is UInt.Type, is UInt8.Type, is UInt16.Type, is UInt32.Type, is UInt64.Type: .integer
        case is Double.Type, is Float.Type: .number
        default: nil
        }
    }

    static func sample<T>(_ type: T.Type, string: String) -> T? {
        switch type {
        case is String.Type: string as? T
        case is Bool.Type: false as? T
        case is Int.Type: 1 as? T
        case is Int64.Type: Int64(1) as? T
        case is Int32.Type: Int32(1) as? T
        case is UInt.Type: UInt(1) as? T
        case is UInt64.Type: UInt64(1) as? T
        case is UInt32.Type: UInt32(1) as? T
        case is Int8.Type: Int8(1) as? T
        case is Int16.Type: Int16(1) as? T
        case is UInt8.Type: UInt8(1) as? T
        case is UInt16.Type: UInt16(1) as? T
        case is Double.Type: 1.0 as? T
        case is Float.Type: Float(1) as? T
        default: nil
        }
    }

    /// A string enum's cases, by their raw values, and its first case as the sample.
    static func enumeration<T>(_ cases: any CaseIterable.Type, as type: T.Type) -> (T, Set<String>)? {
        func names<C: CaseIterable>(_ cases: C.Type) -> (T, Set<String>)? {
            let all = Array(C.allCases)
            let raw = all.compactMap { ($0 as? any RawRepresentable)?.rawValue as? String }
            guard let first = all.first as? T, raw.count == all.count else { return nil }
            return (first, Set(raw))
        }
        return names(cases)
    }
}

struct ShapeError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Where one decoder writes what it saw.
private final class ShapeBox {
    var shape: WireShape?
}

private struct ShapeDecoder: Decoder {
    let string: String
    let box = ShapeBox()
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        if box.shape == nil { box.shape = .object([:]) }
        return KeyedDecodingContainer(KeyedShapeContainer<Key>(box: box))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        UnkeyedShapeContainer(box: box)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleShapeContainer(box: box, string: string)
    }
}

private struct KeyedShapeContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let box: ShapeBox
    var codingPath: [any CodingKey] = []
    var allKeys: [Key] { [] }

    func contains(_ key: Key) -> Bool { true }

    private func note(_ key: Key, _ shape: WireShape, optional: Bool) {
        guard case .object(var fields) = box.shape ?? .object([:]) else { return }
        // A key read twice (a custom decoder's fallback) is optional if either read is.
        let wasOptional = fields[key.stringValue]?.optional ?? optional
        fields[key.stringValue] = WireShape.Field(shape: shape, optional: optional || wasOptional)
        box.shape = .object(fields)
    }

    func decodeNil(forKey key: Key) throws -> Bool { false }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let (value, shape) = try ShapeReader.read(type)
        note(key, shape, optional: false)
        return value
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        let (value, shape) = try ShapeReader.read(type)
        note(key, shape, optional: true)
        return value
    }

    // The concrete overloads go through the generic path, so that each field's shape
    // and optionality are recorded in one place; without the `decodeIfPresent` ones the
    // standard library's defaults would call `decode` and lose the optionality.
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decode(Wrapped<String>.self, forKey: key).value }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try decodeIfPresent(Wrapped<String>.self, forKey: key)?.value }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decode(Wrapped<Bool>.self, forKey: key).value }
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try decodeIfPresent(Wrapped<Bool>.self, forKey: key)?.value }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decode(Wrapped<Int>.self, forKey: key).value }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try decodeIfPresent(Wrapped<Int>.self, forKey: key)?.value }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decode(Wrapped<Int8>.self, forKey: key).value }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try decodeIfPresent(Wrapped<Int8>.self, forKey: key)?.value }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decode(Wrapped<Int16>.self, forKey: key).value }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try decodeIfPresent(Wrapped<Int16>.self, forKey: key)?.value }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decode(Wrapped<Int32>.self, forKey: key).value }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try decodeIfPresent(Wrapped<Int32>.self, forKey: key)?.value }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decode(Wrapped<Int64>.self, forKey: key).value }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try decodeIfPresent(Wrapped<Int64>.self, forKey: key)?.value }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decode(Wrapped<UInt>.self, forKey: key).value }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try decodeIfPresent(Wrapped<UInt>.self, forKey: key)?.value }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decode(Wrapped<UInt8>.self, forKey: key).value }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try decodeIfPresent(Wrapped<UInt8>.self, forKey: key)?.value }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decode(Wrapped<UInt16>.self, forKey: key).value }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try decodeIfPresent(Wrapped<UInt16>.self, forKey: key)?.value }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decode(Wrapped<UInt32>.self, forKey: key).value }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try decodeIfPresent(Wrapped<UInt32>.self, forKey: key)?.value }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decode(Wrapped<UInt64>.self, forKey: key).value }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try decodeIfPresent(Wrapped<UInt64>.self, forKey: key)?.value }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decode(Wrapped<Double>.self, forKey: key).value }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try decodeIfPresent(Wrapped<Double>.self, forKey: key)?.value }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decode(Wrapped<Float>.self, forKey: key).value }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { try decodeIfPresent(Wrapped<Float>.self, forKey: key)?.value }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        throw ShapeError("nested containers are not read; decode a type at '\(key.stringValue)'")
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        throw ShapeError("nested containers are not read; decode a type at '\(key.stringValue)'")
    }

    func superDecoder() throws -> any Decoder { throw ShapeError("superDecoder is not read") }
    func superDecoder(forKey key: Key) throws -> any Decoder { throw ShapeError("superDecoder is not read") }
}

/// A primitive read through the generic path, so that its shape is recorded once.
private struct Wrapped<Value: Decodable>: Decodable {
    var value: Value
    init(from decoder: any Decoder) throws {
        value = try decoder.singleValueContainer().decode(Value.self)
    }
}

/// An array of one element: its shape is the array's.
private struct UnkeyedShapeContainer: UnkeyedDecodingContainer {
    let box: ShapeBox
    var codingPath: [any CodingKey] = []
    var count: Int? { 1 }
    var isAtEnd: Bool { currentIndex > 0 }
    var currentIndex = 0

    mutating func decodeNil() throws -> Bool { false }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (value, shape) = try ShapeReader.read(type)
        box.shape = .array(shape)
        currentIndex += 1
        return value
    }

    mutating func decode(_ type: String.Type) throws -> String { try decode(Wrapped<String>.self).value }
    mutating func decode(_ type: Bool.Type) throws -> Bool { try decode(Wrapped<Bool>.self).value }
    mutating func decode(_ type: Int.Type) throws -> Int { try decode(Wrapped<Int>.self).value }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try decode(Wrapped<Int8>.self).value }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try decode(Wrapped<Int16>.self).value }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try decode(Wrapped<Int32>.self).value }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try decode(Wrapped<Int64>.self).value }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try decode(Wrapped<UInt>.self).value }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try decode(Wrapped<UInt8>.self).value }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try decode(Wrapped<UInt16>.self).value }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try decode(Wrapped<UInt32>.self).value }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try decode(Wrapped<UInt64>.self).value }
    mutating func decode(_ type: Double.Type) throws -> Double { try decode(Wrapped<Double>.self).value }
    mutating func decode(_ type: Float.Type) throws -> Float { try decode(Wrapped<Float>.self).value }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        throw ShapeError("nested containers are not read")
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { throw ShapeError("nested containers are not read") }
    mutating func superDecoder() throws -> any Decoder { throw ShapeError("superDecoder is not read") }
}

/// One value: a primitive, or a type that decodes itself from one (an instant as a string).
private struct SingleShapeContainer: SingleValueDecodingContainer {
    let box: ShapeBox
    let string: String
    var codingPath: [any CodingKey] = []

    func decodeNil() -> Bool { false }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if let shape = ShapeReader.primitive(type), let value = ShapeReader.sample(type, string: string) {
            box.shape = shape
            return value
        }
        let (value, shape) = try ShapeReader.read(type)
        box.shape = shape
        return value
    }

    func decode(_ type: String.Type) throws -> String { try primitive(type) }
    func decode(_ type: Bool.Type) throws -> Bool { try primitive(type) }
    func decode(_ type: Int.Type) throws -> Int { try primitive(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try primitive(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try primitive(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try primitive(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try primitive(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try primitive(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try primitive(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try primitive(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try primitive(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try primitive(type) }
    func decode(_ type: Double.Type) throws -> Double { try primitive(type) }
    func decode(_ type: Float.Type) throws -> Float { try primitive(type) }

    private func primitive<T>(_ type: T.Type) throws -> T {
        guard let shape = ShapeReader.primitive(type), let value = ShapeReader.sample(type, string: string) else {
            throw ShapeError("\(T.self) is not a JSON primitive")
        }
        box.shape = shape
        return value
    }
}
