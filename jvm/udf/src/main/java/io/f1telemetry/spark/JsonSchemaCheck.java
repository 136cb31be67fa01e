package io.f1telemetry.spark;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A JSON Schema (draft 2020-12) checker for exactly the keywords our generated contract schemas use
 * (streaming/contracts/codegen.py): type, enum (of strings), minimum, maximum, properties,
 * additionalProperties, required, items, $ref into the root's $defs, and allOf/oneOf whose branches only
 * require properties (the proto's oneofs). Any other keyword makes {@link #load} throw, so a schema change
 * the checker does not understand fails loudly instead of being ignored. Annotations (title,
 * description, ...) are skipped.
 *
 * <p>The schema is compiled once; {@link #violation} then checks a JSON text in one pass of Jackson's
 * streaming parser: no tree, no exception on the valid path, numbers decoded only where a bound needs
 * them. It reports the first violation in document order (checks at the end of an object - required,
 * oneOf - come when the object closes), or, if the text is no JSON text at all (a syntax error, NaN,
 * empty, trailing content), a detail starting "not valid JSON", whatever else is wrong with it.
 */
final class JsonSchemaCheck {
  static final String DRAFT = "https://json-schema.org/draft/2020-12/schema";

  private static final int OBJECT = 1;
  private static final int ARRAY = 2;
  private static final int STRING = 4;
  private static final int INTEGER = 8;
  private static final int NUMBER = 16;
  private static final int BOOLEAN = 32;
  private static final int NULL = 64;
  private static final int ANY = 127;
  private static final String[] TYPE_NAMES = {"object", "array", "string", "integer", "number", "boolean", "null"};

  /** Keywords that never affect validation. */
  private static final Set<String> ANNOTATIONS =
      Set.of("title", "description", "$comment", "default", "examples", "deprecated", "readOnly", "writeOnly");
  /** Keywords whose branches may only constrain which properties are present. */
  private static final Set<String> PRESENCE_KEYWORDS = Set.of("required", "allOf", "oneOf");

  private static final int MAX_SHOWN = 40;

  /** How every detail starts when the text is no JSON text at all (RFC 8259: exactly one value). */
  static final String NOT_JSON = "not valid JSON";
  private static final String TRAILING = NOT_JSON + ": trailing content after the JSON value";

  /** Strict JSON: no NaN/Infinity tokens, comments, single quotes, leading zeros or trailing commas. */
  private static final JsonFactory FACTORY = JsonFactory.builder().build();

  private final Node root;
  private final String name;

  private JsonSchemaCheck(String name, Node root) {
    this.name = name;
    this.root = root;
  }

  /** Compiles the schema at this class-path resource (e.g. /f1/schemas/x.json); throws if it cannot. */
  static JsonSchemaCheck load(String resource) {
    try (InputStream in = JsonSchemaCheck.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("JSON Schema " + resource + " is missing from the jar");
      }
      JsonNode schema = new ObjectMapper().readTree(in);
      return new JsonSchemaCheck(resource, new Compiler(resource, schema).compile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read JSON Schema " + resource, e);
    }
  }

  /** Compiles a schema given as JSON text (tests). */
  static JsonSchemaCheck parse(String name, String schemaJson) {
    try {
      return new JsonSchemaCheck(name, new Compiler(name, new ObjectMapper().readTree(schemaJson)).compile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read JSON Schema " + name, e);
    }
  }

  /** NULL when `text` satisfies the schema, else a short description of the first violation. */
  String violation(String text) {
    Walk walk = new Walk();
    try (JsonParser p = FACTORY.createParser(text)) {
      walk.p = p;
      JsonToken t = p.nextToken();
      if (t == null) {
        return NOT_JSON + ": empty text";
      }
      if (walk.value(root, t)) {
        t = p.nextToken();
        return t == null ? null : TRAILING;
      }
      // A violation: still read to the end, so that a text that is not JSON says so instead.
      while (!p.getParsingContext().inRoot()) {
        if (p.nextToken() == null) {
          break;
        }
      }
      if (p.nextToken() != null) {
        return TRAILING;
      }
      return walk.detail;
    } catch (JsonProcessingException e) {
      String message = e.getOriginalMessage();
      int newline = message == null ? -1 : message.indexOf('\n');
      if (newline >= 0) {
        message = message.substring(0, newline);
      }
      if (message != null) {
        message = message.replaceAll("\\[Source: [^;\\]]*; ", "[");
      }
      String where = e.getLocation() == null
          ? ""
          : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
      return NOT_JSON + where + ": " + shorten(message, 160);
    } catch (IOException | RuntimeException e) {
      return NOT_JSON + ": " + shorten(e.getClass().getSimpleName() + ": " + e.getMessage(), 160);
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // The compiled schema

  private static final class Node {
    final String pointer; // where in the schema, for load errors
    int types = ANY;
    Set<String> enumValues;
    String enumList;
    // minimum/maximum: exact bounds, and the same for integers as longs where they fit
    BigDecimal minimum;
    BigDecimal maximum;
    long minLong = Long.MIN_VALUE;
    long maxLong = Long.MAX_VALUE;
    boolean minAboveLong; // no long reaches the minimum
    boolean maxBelowLong; // every long exceeds the maximum
    // object keywords
    String[] propNames;
    Node[] props;
    Map<String, Integer> propIndex;
    boolean closed; // additionalProperties: false
    Node additional; // additionalProperties: a schema (null: anything)
    int[] required;
    Presence[] presence; // allOf/oneOf of required-only branches
    // array keywords
    Node items;
    // $ref
    String ref;
    Node target;

    Node(String pointer) {
      this.pointer = pointer;
    }

    boolean hasObjectKeywords() {
      return props != null || closed || additional != null || required != null || presence != null;
    }

    boolean hasBounds() {
      return minimum != null || maximum != null;
    }
  }

  /** A constraint on which properties an object has: required names, or allOf/oneOf of such. */
  private static final class Presence {
    final boolean oneOf; // else allOf
    final int[] required; // for a leaf
    final Presence[] parts;
    final String pointer;

    Presence(int[] required, String pointer) {
      this.oneOf = false;
      this.required = required;
      this.parts = null;
      this.pointer = pointer;
    }

    Presence(boolean oneOf, Presence[] parts, String pointer) {
      this.oneOf = oneOf;
      this.required = null;
      this.parts = parts;
      this.pointer = pointer;
    }

    /** Whether it holds for an object with the properties `seen` (null: the instance is not an object). */
    boolean holds(long[] seen) {
      if (required != null) {
        if (seen != null) {
          for (int i : required) {
            if (!isSet(seen, i)) {
              return false;
            }
          }
        }
        return true;
      }
      if (oneOf) {
        int matched = 0;
        for (Presence part : parts) {
          if (part.holds(seen) && ++matched > 1) {
            return false;
          }
        }
        return matched == 1;
      }
      for (Presence part : parts) {
        if (!part.holds(seen)) {
          return false;
        }
      }
      return true;
    }

    /** The single property a oneOf branch requires, or -1 when it is anything else. */
    int singleName() {
      return required != null && required.length == 1 ? required[0] : -1;
    }
  }

  private static final class Compiler {
    private final String name;
    private final JsonNode rootSchema;
    private final Map<String, Node> defs = new LinkedHashMap<>();
    private final List<Node> all = new ArrayList<>();

    Compiler(String name, JsonNode rootSchema) {
      this.name = name;
      this.rootSchema = rootSchema;
    }

    Node compile() {
      if (!rootSchema.isObject()) {
        throw unsupported("#", "the schema is not a JSON object");
      }
      JsonNode draft = rootSchema.get("$schema");
      if (draft != null && !DRAFT.equals(draft.asText())) {
        throw unsupported("#/$schema", "only draft 2020-12 (" + DRAFT + ") is understood, not " + draft);
      }
      JsonNode defsNode = rootSchema.get("$defs");
      if (defsNode != null) {
        if (!defsNode.isObject()) {
          throw unsupported("#/$defs", "not an object");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = defsNode.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> def = it.next();
          defs.put(def.getKey(), null);
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = defsNode.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> def = it.next();
          defs.put(def.getKey(), node(def.getValue(), "#/$defs/" + def.getKey(), false));
        }
      }
      Node root = node(rootSchema, "#", true);
      // Link: every $ref to its definition, then every child to the node it stands for.
      for (Node n : all) {
        if (n.ref != null) {
          n.target = defs.get(n.ref);
        }
      }
      for (Node n : all) {
        if (n.props != null) {
          for (int i = 0; i < n.props.length; i++) {
            n.props[i] = resolve(n.props[i]);
          }
        }
        n.additional = n.additional == null ? null : resolve(n.additional);
        n.items = n.items == null ? null : resolve(n.items);
      }
      return resolve(root);
    }

    private Node resolve(Node n) {
      Node at = n;
      for (int hops = 0; at.ref != null; hops++) {
        if (hops > 64) {
          throw unsupported(n.pointer, "$ref cycle");
        }
        at = at.target;
      }
      return at;
    }

    private Node node(JsonNode schema, String pointer, boolean isRoot) {
      Node n = new Node(pointer);
      all.add(n);
      if (schema.isBoolean()) {
        if (!schema.booleanValue()) {
          n.types = 0; // false: nothing is valid
        }
        return n;
      }
      if (!schema.isObject()) {
        throw unsupported(pointer, "a schema must be an object or a boolean");
      }
      JsonNode ref = schema.get("$ref");
      if (ref != null) {
        String text = ref.asText();
        if (!ref.isTextual() || !text.startsWith("#/$defs/") || !defs.containsKey(text.substring(8))) {
          throw unsupported(pointer + "/$ref", "only references to this schema's $defs are understood: " + ref);
        }
        for (Iterator<String> it = schema.fieldNames(); it.hasNext(); ) {
          String key = it.next();
          if (!key.equals("$ref") && !ANNOTATIONS.contains(key)) {
            throw unsupported(pointer + "/" + key, "keyword beside $ref");
          }
        }
        n.ref = text.substring(8);
        return n;
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = schema.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> entry = it.next();
        String key = entry.getKey();
        JsonNode value = entry.getValue();
        String at = pointer + "/" + key;
        switch (key) {
          case "type" -> n.types = types(value, at);
          case "enum" -> enumeration(n, value, at);
          case "minimum" -> n.minimum = number(value, at);
          case "maximum" -> n.maximum = number(value, at);
          case "properties" -> properties(n, value, at);
          case "additionalProperties" -> {
            if (value.isBoolean()) {
              n.closed = !value.booleanValue();
            } else {
              n.additional = node(value, at, false);
            }
          }
          case "required", "allOf", "oneOf" -> { } // after properties: they refer to them
          case "items" -> n.items = node(value, at, false);
          case "$schema", "$defs" -> {
            if (!isRoot) {
              throw unsupported(at, key + " below the root");
            }
          }
          default -> {
            if (!ANNOTATIONS.contains(key)) {
              throw unsupported(at, "keyword " + key + " is not understood by this checker");
            }
          }
        }
      }
      if (schema.has("required")) {
        n.required = names(n, schema.get("required"), pointer + "/required");
      }
      List<Presence> presence = new ArrayList<>();
      for (String key : new String[] {"allOf", "oneOf"}) {
        if (schema.has(key)) {
          presence.add(combination(n, key.equals("oneOf"), schema.get(key), pointer + "/" + key));
        }
      }
      if (!presence.isEmpty()) {
        n.presence = presence.toArray(new Presence[0]);
      }
      bounds(n);
      return n;
    }

    private int types(JsonNode value, String at) {
      if (value.isTextual()) {
        return type(value.asText(), at);
      }
      if (!value.isArray() || value.isEmpty()) {
        throw unsupported(at, "type must be a name or a non-empty list of names");
      }
      int mask = 0;
      for (JsonNode item : value) {
        mask |= type(item.asText(), at);
      }
      return mask;
    }

    private int type(String type, String at) {
      for (int i = 0; i < TYPE_NAMES.length; i++) {
        if (TYPE_NAMES[i].equals(type)) {
          return 1 << i;
        }
      }
      throw unsupported(at, "unknown type " + type);
    }

    private void enumeration(Node n, JsonNode value, String at) {
      if (!value.isArray() || value.isEmpty()) {
        throw unsupported(at, "enum must be a non-empty list");
      }
      Set<String> values = new HashSet<>();
      StringBuilder list = new StringBuilder();
      for (JsonNode item : value) {
        if (!item.isTextual()) {
          throw unsupported(at, "only enums of strings are understood, not " + item);
        }
        values.add(item.asText());
        list.append(list.length() == 0 ? "" : ", ").append(item.asText());
      }
      n.enumValues = values;
      n.enumList = list.toString();
    }

    private BigDecimal number(JsonNode value, String at) {
      if (!value.isNumber()) {
        throw unsupported(at, "not a number: " + value);
      }
      return value.decimalValue();
    }

    private void bounds(Node n) {
      BigDecimal longMin = BigDecimal.valueOf(Long.MIN_VALUE);
      BigDecimal longMax = BigDecimal.valueOf(Long.MAX_VALUE);
      if (n.minimum != null) {
        BigDecimal min = n.minimum.setScale(0, RoundingMode.CEILING); // an integer >= min is >= ceil(min)
        if (min.compareTo(longMax) > 0) {
          n.minAboveLong = true;
        } else if (min.compareTo(longMin) > 0) {
          n.minLong = min.longValueExact();
        }
      }
      if (n.maximum != null) {
        BigDecimal max = n.maximum.setScale(0, RoundingMode.FLOOR);
        if (max.compareTo(longMin) < 0) {
          n.maxBelowLong = true;
        } else if (max.compareTo(longMax) < 0) {
          n.maxLong = max.longValueExact();
        }
      }
    }

    private void properties(Node n, JsonNode value, String at) {
      if (!value.isObject()) {
        throw unsupported(at, "properties must be an object");
      }
      int count = value.size();
      n.propNames = new String[count];
      n.props = new Node[count];
      n.propIndex = new HashMap<>(count * 2);
      int i = 0;
      for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); i++) {
        Map.Entry<String, JsonNode> property = it.next();
        n.propNames[i] = property.getKey();
        n.props[i] = node(property.getValue(), at + "/" + property.getKey(), false);
        n.propIndex.put(property.getKey(), i);
      }
    }

    /** Property names as indexes into `properties`: required names must be declared there. */
    private int[] names(Node n, JsonNode value, String at) {
      if (!value.isArray()) {
        throw unsupported(at, "required must be a list");
      }
      int[] indexes = new int[value.size()];
      int i = 0;
      for (JsonNode item : value) {
        Integer index = n.propIndex == null ? null : n.propIndex.get(item.asText());
        if (!item.isTextual() || index == null) {
          throw unsupported(at, "required " + item + " is not one of this object's properties");
        }
        indexes[i++] = index;
      }
      return indexes;
    }

    private Presence combination(Node n, boolean oneOf, JsonNode value, String at) {
      if (!value.isArray() || value.isEmpty()) {
        throw unsupported(at, "must be a non-empty list of schemas");
      }
      Presence[] parts = new Presence[value.size()];
      int i = 0;
      for (JsonNode branch : value) {
        parts[i] = presence(n, branch, at + "/" + i);
        i++;
      }
      return new Presence(oneOf, parts, at);
    }

    /** A branch of allOf/oneOf: only `required`, `allOf` and `oneOf` (and annotations) are understood. */
    private Presence presence(Node n, JsonNode branch, String at) {
      if (!branch.isObject()) {
        throw unsupported(at, "allOf/oneOf branches must be objects");
      }
      List<Presence> parts = new ArrayList<>();
      for (Iterator<String> it = branch.fieldNames(); it.hasNext(); ) {
        String key = it.next();
        if (ANNOTATIONS.contains(key)) {
          continue;
        }
        if (!PRESENCE_KEYWORDS.contains(key)) {
          throw unsupported(at + "/" + key, "allOf/oneOf branches may only use required, allOf and oneOf here");
        }
        JsonNode value = branch.get(key);
        parts.add(key.equals("required")
            ? new Presence(names(n, value, at + "/required"), at + "/required")
            : combination(n, key.equals("oneOf"), value, at + "/" + key));
      }
      if (parts.size() == 1) {
        return parts.get(0);
      }
      return new Presence(false, parts.toArray(new Presence[0]), at);
    }

    private IllegalStateException unsupported(String pointer, String what) {
      return new IllegalStateException("JSON Schema " + name + " at " + pointer + ": " + what);
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Checking a text

  private static boolean isSet(long[] bits, int i) {
    return (bits[i >>> 6] & (1L << i)) != 0;
  }

  /** One check of one text: the parser, the path to the current value, and the violation found. */
  private static final class Walk {
    JsonParser p;
    String detail;
    private Object[] path = new Object[16]; // String names and Integer indexes
    private int depth;

    private void push(Object segment) {
      if (depth == path.length) {
        path = java.util.Arrays.copyOf(path, depth * 2);
      }
      path[depth++] = segment;
    }

    /** Checks the value starting at token `t` against `n`; false (with `detail`) at the first violation. */
    boolean value(Node n, JsonToken t) throws IOException {
      switch (t) {
        case START_OBJECT:
          if ((n.types & OBJECT) == 0 || n.enumValues != null) {
            return typeError(n, "object");
          }
          return object(n);
        case START_ARRAY:
          if ((n.types & ARRAY) == 0 || n.enumValues != null) {
            return typeError(n, "array");
          }
          return array(n) && presence(n, null);
        case VALUE_STRING:
          if (n.enumValues != null) {
            String s = p.getText();
            if (!n.enumValues.contains(s)) {
              return fail(where() + ": " + shown(s) + " is not one of " + n.enumList);
            }
          } else if ((n.types & STRING) == 0) {
            return typeError(n, "string " + quoted(p.getText()));
          }
          return presence(n, null);
        case VALUE_NUMBER_INT:
          if ((n.types & (INTEGER | NUMBER)) == 0 || n.enumValues != null) {
            return typeError(n, "integer " + shown(p.getText()));
          }
          return (!n.hasBounds() || integerInBounds(n)) && presence(n, null);
        case VALUE_NUMBER_FLOAT:
          if ((n.types & NUMBER) != 0 && n.enumValues == null) {
            return (!n.hasBounds() || decimalInBounds(n, p.getDecimalValue())) && presence(n, null);
          }
          if ((n.types & INTEGER) != 0 && n.enumValues == null) {
            BigDecimal d = p.getDecimalValue(); // draft 2020-12: a number with a zero fractional part is an integer
            if (d.signum() == 0 || d.stripTrailingZeros().scale() <= 0) {
              return (!n.hasBounds() || decimalInBounds(n, d)) && presence(n, null);
            }
          }
          return typeError(n, "number " + shown(p.getText()));
        case VALUE_TRUE:
        case VALUE_FALSE:
          if ((n.types & BOOLEAN) == 0 || n.enumValues != null) {
            return typeError(n, "boolean " + p.getText());
          }
          return presence(n, null);
        case VALUE_NULL:
          if ((n.types & NULL) == 0 || n.enumValues != null) {
            return typeError(n, "null");
          }
          return presence(n, null);
        default:
          throw new IllegalStateException("unexpected token " + t);
      }
    }

    private boolean object(Node n) throws IOException {
      if (!n.hasObjectKeywords()) {
        p.skipChildren();
        return true;
      }
      int count = n.props == null ? 0 : n.props.length;
      long[] seen = new long[(count + 63) >>> 6 == 0 ? 1 : (count + 63) >>> 6];
      JsonToken t;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        Integer index = n.propIndex == null ? null : n.propIndex.get(name);
        if (index != null) {
          int i = index;
          if (isSet(seen, i)) {
            push(name);
            return fail(where() + ": duplicate field");
          }
          seen[i >>> 6] |= 1L << i;
          push(name);
          if (!value(n.props[i], p.nextToken())) {
            return false;
          }
          depth--;
        } else if (n.closed) {
          push(name);
          return fail(where() + ": unknown field");
        } else if (n.additional != null) {
          push(name);
          if (!value(n.additional, p.nextToken())) {
            return false;
          }
          depth--;
        } else {
          p.nextToken();
          p.skipChildren();
        }
      }
      if (n.required != null) {
        for (int i : n.required) {
          if (!isSet(seen, i)) {
            push(n.propNames[i]);
            return fail(where() + ": missing (required)");
          }
        }
      }
      return presence(n, seen);
    }

    private boolean array(Node n) throws IOException {
      if (n.items == null) {
        p.skipChildren();
        return true;
      }
      int index = 0;
      JsonToken t;
      while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
        push(index++);
        if (!value(n.items, t)) {
          return false;
        }
        depth--;
      }
      return true;
    }

    /** allOf/oneOf of required properties; `seen` is null when the value is not an object. */
    private boolean presence(Node n, long[] seen) {
      if (n.presence == null) {
        return true;
      }
      for (Presence part : n.presence) {
        if (!part.holds(seen)) {
          return fail(explain(n, part, seen));
        }
      }
      return true;
    }

    private String explain(Node n, Presence failed, long[] seen) {
      if (seen == null) {
        return where() + ": expected object"; // required-only branches can only fail on an object
      }
      // Find the innermost part that fails: a missing required name, or a oneOf matched 0 or 2+ times.
      Presence at = failed;
      while (at.parts != null && !at.oneOf) {
        Presence next = null;
        for (Presence part : at.parts) {
          if (!part.holds(seen)) {
            next = part;
            break;
          }
        }
        at = next;
      }
      String prefix = depth == 0 ? "" : where() + ": ";
      if (!at.oneOf) {
        for (int i : at.required) {
          if (!isSet(seen, i)) {
            return where() + "." + n.propNames[i] + ": missing (required)";
          }
        }
      }
      List<String> matched = new ArrayList<>();
      List<String> alternatives = new ArrayList<>();
      boolean singles = true;
      for (Presence part : at.parts) {
        int single = part.singleName();
        singles &= single >= 0;
        String label = single >= 0 ? n.propNames[single] : "branch " + alternatives.size();
        alternatives.add(label);
        if (part.holds(seen)) {
          matched.add(label);
        }
      }
      if (!singles) {
        return prefix + "matches " + matched.size() + " of the " + alternatives.size()
            + " oneOf alternatives at " + at.pointer + " " + matched + ", not exactly one";
      }
      if (matched.isEmpty()) {
        return prefix + "no payload: expected one of " + String.join(", ", alternatives);
      }
      String count = matched.size() == 2 ? "two" : Integer.toString(matched.size());
      String last = matched.remove(matched.size() - 1);
      return prefix + count + " payloads: " + String.join(", ", matched) + " and " + last;
    }

    private boolean integerInBounds(Node n) throws IOException {
      JsonParser.NumberType type = p.getNumberType();
      if (type == JsonParser.NumberType.INT || type == JsonParser.NumberType.LONG) {
        long v = p.getLongValue();
        if (n.minAboveLong || v < n.minLong) {
          return fail(where() + ": " + v + " is less than the minimum " + n.minimum.toPlainString());
        }
        if (n.maxBelowLong || v > n.maxLong) {
          return fail(where() + ": " + v + " is greater than the maximum " + n.maximum.toPlainString());
        }
        return true;
      }
      BigInteger big = p.getBigIntegerValue();
      return decimalInBounds(n, new BigDecimal(big));
    }

    private boolean decimalInBounds(Node n, BigDecimal v) {
      if (n.minimum != null && v.compareTo(n.minimum) < 0) {
        return fail(where() + ": " + shown(textOf(v)) + " is less than the minimum "
            + n.minimum.toPlainString());
      }
      if (n.maximum != null && v.compareTo(n.maximum) > 0) {
        return fail(where() + ": " + shown(textOf(v)) + " is greater than the maximum "
            + n.maximum.toPlainString());
      }
      return true;
    }

    private String textOf(BigDecimal v) {
      try {
        return p.getText();
      } catch (IOException e) {
        return v.toString();
      }
    }

    private boolean typeError(Node n, String got) {
      if (depth == 0 && n.types == OBJECT) {
        return fail("not a JSON object (got " + got + ")");
      }
      if (n.enumValues != null) {
        return fail(where() + ": expected one of " + n.enumList + ", got " + got);
      }
      return fail(where() + ": expected " + expected(n.types) + ", got " + got);
    }

    private boolean fail(String detail) {
      this.detail = detail;
      return false;
    }

    /** The JSON path of the current value: $.a.b[2], or $['odd key'] for names that are not identifiers. */
    private String where() {
      StringBuilder out = new StringBuilder("$");
      for (int i = 0; i < depth; i++) {
        Object segment = path[i];
        if (segment instanceof Integer) {
          out.append('[').append(segment).append(']');
        } else {
          String name = (String) segment;
          if (isIdentifier(name)) {
            out.append('.').append(name);
          } else {
            out.append("['");
            String shortName = name.length() > MAX_SHOWN ? name.substring(0, MAX_SHOWN) + "..." : name;
            for (int k = 0; k < shortName.length(); k++) {
              char c = shortName.charAt(k);
              if (c == '\'' || c == '\\') {
                out.append('\\').append(c);
              } else if (c < 0x20 || c == 0x7f) {
                out.append(String.format("\\u%04x", (int) c));
              } else {
                out.append(c);
              }
            }
            out.append("']");
          }
        }
      }
      return out.toString();
    }
  }

  private static boolean isIdentifier(String name) {
    if (name.isEmpty() || name.length() > MAX_SHOWN) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean ok = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9');
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  private static String expected(int types) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < TYPE_NAMES.length; i++) {
      if ((types & (1 << i)) != 0) {
        out.append(out.length() == 0 ? "" : " or ").append(TYPE_NAMES[i]);
      }
    }
    return out.length() == 0 ? "nothing (the schema is false)" : out.toString();
  }

  /** A value from the text, shortened, with control characters escaped. */
  private static String shown(String s) {
    return shorten(s, MAX_SHOWN);
  }

  private static String quoted(String s) {
    return "\"" + shown(s) + "\"";
  }

  private static String shorten(String s, int max) {
    if (s == null) {
      return "";
    }
    StringBuilder out = new StringBuilder(Math.min(s.length(), max) + 8);
    for (int i = 0; i < s.length() && i < max; i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    if (s.length() > max) {
      out.append("...");
    }
    return out.toString();
  }
}
