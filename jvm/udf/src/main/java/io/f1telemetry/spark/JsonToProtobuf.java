package io.f1telemetry.spark;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.OneofDescriptor;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the contract's JSON encoding (UTF-8 bytes) straight into Protobuf wire bytes, guided by the
 * descriptors: the inverse of the JSON encoding, with no JSON library and no message objects.
 *
 * <p>It accepts what protobuf's JsonFormat parser accepts for our contracts: proto or JSON (lowerCamel)
 * field names; enums by name or number, and by short name too (RACE for SESSION_TYPE_RACE, as the silver
 * tables store them); integers as numbers or strings, also in exponent form when integral; doubles as
 * numbers or "NaN"/"Infinity"/"-Infinity"; null as an absent field. Unlike JsonFormat it skips unknown
 * fields (as bronze's from_json does) instead of failing: an event from a producer on a newer contract is
 * still valid. The output is canonical for proto3: fields without presence are left out at their
 * default values. Anything else (bad syntax, a value out of range, two members of one oneof) throws
 * {@link Malformed}.
 */
final class JsonToProtobuf {
  /** The input is not a JSON encoding of the message; cheap to throw (no stack trace). */
  static final class Malformed extends Exception {
    private static final long serialVersionUID = 1L;

    Malformed(String message) {
      super(message, null, false, false);
    }
  }

  private static final Map<Descriptor, MessagePlan> PLANS = new HashMap<>();
  private static final double[] POWERS_OF_TEN = new double[23];

  static {
    double p = 1;
    for (int i = 0; i < POWERS_OF_TEN.length; i++) {
      POWERS_OF_TEN[i] = p;
      p *= 10;
    }
  }

  /** What the reader needs of one message type, computed once. */
  static final class MessagePlan {
    final FieldPlan[] fields;
    final Map<String, FieldPlan> byName = new HashMap<>();
    // An open-addressing table from a key's byte hash (computed while the key is scanned) to the field,
    // for proto and JSON names: a key is found with one comparison and no String.
    final int mask;
    final int[] slotHash;
    final byte[][] slotName;
    final FieldPlan[] slotField;

    MessagePlan(int count) {
      fields = new FieldPlan[count];
      int size = 8;
      while (size < count * 8) { // two names a field, a quarter full at most
        size <<= 1;
      }
      mask = size - 1;
      slotHash = new int[size];
      slotName = new byte[size][];
      slotField = new FieldPlan[size];
    }

    void index(byte[] name, FieldPlan field) {
      int hash = hash(name, 0, name.length);
      int slot = hash & mask;
      while (slotName[slot] != null) {
        if (Arrays.equals(slotName[slot], name)) {
          return; // a JSON name equal to the proto name
        }
        slot = (slot + 1) & mask;
      }
      slotHash[slot] = hash;
      slotName[slot] = name;
      slotField[slot] = field;
    }
  }

  /** The hash `key` computes while it scans: 31-polynomial, then mixed. */
  static int hash(byte[] b, int from, int to) {
    int h = 0;
    for (int i = from; i < to; i++) {
      h = 31 * h + b[i];
    }
    return mix(h);
  }

  private static int mix(int h) {
    return h ^ (h >>> 7) ^ (h >>> 15);
  }

  private enum Kind { DOUBLE, FLOAT, S32, U32, S64, U64, BOOL, ENUM, STRING, BYTES, MESSAGE }

  private static final class FieldPlan {
    final byte[] name;
    final byte[] jsonName;
    final Kind kind;
    final FieldDescriptor.Type type;
    final long tag; // the tag for one value: number << 3 | its wire type
    final long packedTag; // number << 3 | LEN
    final boolean repeated;
    final boolean packed;
    final boolean presence;
    final int oneof; // index of the real oneof, -1 if none
    final Map<String, Integer> enumValues;
    final byte[][] enumNames; // the full names, compared as bytes first (no String per value)
    final int[] enumNumbers;
    MessagePlan message;

    FieldPlan(FieldDescriptor field) {
      this.name = field.getName().getBytes(StandardCharsets.UTF_8);
      this.jsonName = field.getJsonName().getBytes(StandardCharsets.UTF_8);
      this.type = field.getType();
      this.kind = kind(field);
      this.tag = ((long) field.getNumber() << 3) | Wire.wireType(field);
      this.packedTag = ((long) field.getNumber() << 3) | Wire.LEN;
      this.repeated = field.isRepeated();
      this.packed = field.isRepeated() && field.isPackable();
      this.presence = field.hasPresence();
      OneofDescriptor oneof = field.getRealContainingOneof();
      this.oneof = oneof == null ? -1 : oneof.getIndex();
      if (field.isMapField()) {
        throw new IllegalStateException("map fields are not supported: " + field.getFullName());
      }
      if (kind == Kind.ENUM) {
        enumValues = new HashMap<>();
        List<EnumValueDescriptor> values = field.getEnumType().getValues();
        enumNames = new byte[values.size()][];
        enumNumbers = new int[values.size()];
        for (int i = 0; i < values.size(); i++) {
          enumNames[i] = values.get(i).getName().getBytes(StandardCharsets.UTF_8);
          enumNumbers[i] = values.get(i).getNumber();
        }
        // The contracts prefix value names with the enum's name in UPPER_SNAKE (SESSION_TYPE_RACE):
        // the short names (RACE) are the rest after the prefix of the zero value (SESSION_TYPE_).
        String zero = field.getEnumType().findValueByNumber(0).getName();
        String prefix = zero.endsWith("_UNSPECIFIED") ? zero.substring(0, zero.length() - 11) : "";
        for (EnumValueDescriptor value : values) {
          enumValues.putIfAbsent(value.getName(), value.getNumber());
        }
        for (EnumValueDescriptor value : values) {
          if (!prefix.isEmpty() && value.getName().startsWith(prefix)) {
            enumValues.putIfAbsent(value.getName().substring(prefix.length()), value.getNumber());
          }
        }
      } else {
        enumValues = null;
        enumNames = null;
        enumNumbers = null;
      }
    }

    private static Kind kind(FieldDescriptor field) {
      return switch (field.getType()) {
        case DOUBLE -> Kind.DOUBLE;
        case FLOAT -> Kind.FLOAT;
        case INT32, SINT32, SFIXED32 -> Kind.S32;
        case UINT32, FIXED32 -> Kind.U32;
        case INT64, SINT64, SFIXED64 -> Kind.S64;
        case UINT64, FIXED64 -> Kind.U64;
        case BOOL -> Kind.BOOL;
        case ENUM -> Kind.ENUM;
        case STRING -> Kind.STRING;
        case BYTES -> Kind.BYTES;
        case MESSAGE -> Kind.MESSAGE;
        case GROUP -> throw new IllegalStateException("groups are not supported: " + field.getFullName());
      };
    }
  }

  static synchronized MessagePlan plan(Descriptor type) {
    MessagePlan plan = PLANS.get(type);
    if (plan != null) {
      return plan;
    }
    List<FieldDescriptor> fields = type.getFields();
    if (type.getOneofs().size() > 64) {
      throw new IllegalStateException(type.getFullName() + ": more than 64 oneofs");
    }
    plan = new MessagePlan(fields.size());
    PLANS.put(type, plan); // before the fields: a recursive type finds itself
    for (int i = 0; i < fields.size(); i++) {
      FieldPlan field = new FieldPlan(fields.get(i));
      plan.fields[i] = field;
      plan.byName.put(fields.get(i).getName(), field);
      plan.byName.putIfAbsent(fields.get(i).getJsonName(), field);
      plan.index(field.name, field);
      plan.index(field.jsonName, field);
    }
    for (int i = 0; i < fields.size(); i++) {
      if (plan.fields[i].kind == Kind.MESSAGE) {
        plan.fields[i].message = plan(fields.get(i).getMessageType());
      }
    }
    return plan;
  }

  /** Encodes the JSON object in bytes [from, to) as a message of `plan`'s type, appended to `out`. */
  static void encode(MessagePlan plan, byte[] json, int from, int to, Wire.Sink out) throws Malformed {
    JsonToProtobuf reader = new JsonToProtobuf(json, from, to, out);
    reader.whitespace();
    reader.message(plan, 0);
    reader.whitespace();
    if (reader.pos != to) {
      throw new Malformed("characters after the JSON object");
    }
  }

  private final byte[] in;
  private final int end;
  private final Wire.Sink out;
  private int pos;
  // The last number read: [numStart, numEnd) of `in`, and whether it had a fraction or an exponent.
  private int numStart;
  private int numEnd;
  private boolean numIntegral;

  private JsonToProtobuf(byte[] in, int from, int to, Wire.Sink out) {
    this.in = in;
    this.pos = from;
    this.end = to;
    this.out = out;
  }

  private void message(MessagePlan plan, int depth) throws Malformed {
    if (depth > Wire.MAX_DEPTH) {
      throw new Malformed("nested too deeply");
    }
    expect('{');
    whitespace();
    if (peek() == '}') {
      pos++;
      return;
    }
    long oneofsSeen = 0;
    while (true) {
      expect('"');
      FieldPlan field = key(plan);
      whitespace();
      expect(':');
      whitespace();
      if (field == null) {
        skipValue(depth + 1);
      } else if (peek() == 'n') {
        literal("null"); // an absent field, as in JsonFormat
      } else {
        if (field.oneof >= 0) {
          long bit = 1L << field.oneof;
          if ((oneofsSeen & bit) != 0) {
            throw new Malformed("two members of one oneof");
          }
          oneofsSeen |= bit;
        }
        field(field, depth);
      }
      whitespace();
      byte c = next();
      if (c == '}') {
        return;
      }
      if (c != ',') {
        throw new Malformed("expected , or }");
      }
      whitespace();
    }
  }

  /**
   * The field named by the key that starts at pos (after its quote), or null if the type has none.
   * The key is hashed while it is scanned and found in the plan's table with one byte comparison: no
   * String is made, except for a key with escapes.
   */
  private FieldPlan key(MessagePlan plan) throws Malformed {
    int start = pos;
    int h = 0;
    while (true) {
      if (pos >= end) {
        throw new Malformed("unterminated string");
      }
      byte c = in[pos];
      if (c == '"') {
        break;
      }
      if (c == '\\' || c < 0x20) {
        pos = start; // an escaped (or invalid) key: decode it the slow way
        Wire.Sink name = new Wire.Sink();
        string(name);
        return plan.byName.get(new String(name.buf, 0, name.pos, StandardCharsets.UTF_8));
      }
      h = 31 * h + c;
      pos++;
    }
    int length = pos - start;
    pos++; // the closing quote
    int hash = mix(h);
    for (int slot = hash & plan.mask; plan.slotName[slot] != null; slot = (slot + 1) & plan.mask) {
      if (plan.slotHash[slot] == hash && same(plan.slotName[slot], start, length)) {
        return plan.slotField[slot];
      }
    }
    if (!Wire.validUtf8(in, start, start + length)) {
      throw new Malformed("invalid UTF-8");
    }
    return null;
  }

  /** Whether in[start, start + length) is `name`; compared from the end, where enum names differ. */
  private boolean same(byte[] name, int start, int length) {
    if (name.length != length) {
      return false;
    }
    for (int k = length - 1; k >= 0; k--) {
      if (name[k] != in[start + k]) {
        return false;
      }
    }
    return true;
  }

  private void field(FieldPlan field, int depth) throws Malformed {
    if (!field.repeated) {
      int mark = out.pos;
      out.varint(field.tag);
      if (value(field, depth) && !field.presence) {
        out.pos = mark; // proto3 leaves a field without presence out at its default value
      }
      return;
    }
    expect('[');
    whitespace();
    if (peek() == ']') {
      pos++;
      return;
    }
    int start = -1;
    if (field.packed) {
      out.varint(field.packedTag);
      start = out.begin();
    }
    while (true) {
      if (!field.packed) {
        out.varint(field.tag);
      }
      value(field, depth);
      whitespace();
      byte c = next();
      if (c == ']') {
        break;
      }
      if (c != ',') {
        throw new Malformed("expected , or ]");
      }
      whitespace();
    }
    if (field.packed) {
      out.end(start);
    }
  }

  /** Writes one value of the field (no tag); returns whether it was the type's default value. */
  private boolean value(FieldPlan field, int depth) throws Malformed {
    switch (field.kind) {
      case DOUBLE -> {
        long bits = Double.doubleToRawLongBits(readDouble());
        out.fixed64(bits);
        return bits == 0;
      }
      case FLOAT -> {
        double d = readDouble();
        float f = (float) d;
        if (Float.isInfinite(f) && !Double.isInfinite(d)) {
          throw new Malformed("float out of range");
        }
        int bits = Float.floatToRawIntBits(f);
        out.fixed32(bits);
        return bits == 0;
      }
      case S32, U32, S64, U64 -> {
        long v = readInteger(field.kind);
        switch (field.type) {
          case SINT32 -> out.varint((((int) v << 1) ^ ((int) v >> 31)) & 0xFFFFFFFFL);
          case SINT64 -> out.varint((v << 1) ^ (v >> 63));
          case FIXED32, SFIXED32 -> out.fixed32((int) v);
          case FIXED64, SFIXED64 -> out.fixed64(v);
          default -> out.varint(v); // int32 sign-extends to ten bytes, as the wire format says
        }
        return v == 0;
      }
      case BOOL -> {
        boolean b = peek() == 't';
        literal(b ? "true" : "false");
        out.write(b ? 1 : 0);
        return !b;
      }
      case ENUM -> {
        int number;
        if (peek() == '"') {
          pos++;
          int start = pos;
          while (pos < end && in[pos] != '"' && in[pos] != '\\') {
            pos++;
          }
          if (pos >= end || in[pos] != '"') {
            throw new Malformed("bad enum name");
          }
          number = Integer.MIN_VALUE;
          for (int k = 0; k < field.enumNames.length; k++) {
            if (same(field.enumNames[k], start, pos - start)) {
              number = field.enumNumbers[k];
              break;
            }
          }
          if (number == Integer.MIN_VALUE) { // a short name, or none
            Integer found = field.enumValues.get(new String(in, start, pos - start, StandardCharsets.UTF_8));
            if (found == null) {
              throw new Malformed("unknown enum value");
            }
            number = found;
          }
          pos++;
        } else {
          number = (int) readInteger(Kind.S32);
        }
        out.varint(number);
        return number == 0;
      }
      case STRING -> {
        expect('"');
        int start = out.begin();
        string(out);
        return out.end(start) == 0;
      }
      case BYTES -> {
        expect('"');
        Wire.Sink text = new Wire.Sink();
        string(text);
        byte[] decoded;
        try {
          String s = new String(text.buf, 0, text.pos, StandardCharsets.US_ASCII);
          decoded = (s.indexOf('-') >= 0 || s.indexOf('_') >= 0)
              ? Base64.getUrlDecoder().decode(s)
              : Base64.getDecoder().decode(s);
        } catch (IllegalArgumentException e) {
          throw new Malformed("bad base64");
        }
        out.varint(decoded.length);
        out.write(decoded, 0, decoded.length);
        return decoded.length == 0;
      }
      case MESSAGE -> {
        int start = out.begin();
        message(field.message, depth + 1);
        out.end(start);
        return false; // a message field has presence
      }
      default -> throw new IllegalStateException();
    }
  }

  /** An integer of the kind's range, from a JSON number or a string holding one; as a two's-complement long. */
  private long readInteger(Kind kind) throws Malformed {
    boolean quoted = peek() == '"';
    if (quoted) {
      pos++;
    }
    number();
    if (quoted) {
      expect('"');
    }
    int digits = numEnd - numStart - (in[numStart] == '-' ? 1 : 0);
    long v = 0;
    boolean fast = numIntegral && digits <= 19; // nanosecond times have 19 digits
    if (fast) {
      for (int i = numEnd - digits; i < numEnd - 1; i++) { // 18 digits at most: no overflow
        v = v * 10 + (in[i] - '0');
      }
      int last = in[numEnd - 1] - '0';
      if (digits == 19 && v > (Long.MAX_VALUE - last) / 10) {
        fast = false; // beyond Long.MAX_VALUE: Long.MIN_VALUE or a large uint64
      }
      v = v * 10 + last;
    }
    if (fast) {
      v = in[numStart] == '-' ? -v : v;
      boolean inRange = switch (kind) {
        case S32 -> v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE;
        case U32 -> v >= 0 && v <= 0xFFFFFFFFL;
        case U64 -> v >= 0;
        default -> true;
      };
      if (!inRange) {
        throw new Malformed("integer out of range");
      }
      return v;
    }
    BigInteger big;
    try {
      big = new BigDecimal(new String(in, numStart, numEnd - numStart, StandardCharsets.US_ASCII))
          .toBigIntegerExact();
    } catch (ArithmeticException | NumberFormatException e) {
      throw new Malformed("not an integer");
    }
    BigInteger min;
    BigInteger max;
    switch (kind) {
      case S32 -> {
        min = BigInteger.valueOf(Integer.MIN_VALUE);
        max = BigInteger.valueOf(Integer.MAX_VALUE);
      }
      case U32 -> {
        min = BigInteger.ZERO;
        max = BigInteger.valueOf(0xFFFFFFFFL);
      }
      case S64 -> {
        min = BigInteger.valueOf(Long.MIN_VALUE);
        max = BigInteger.valueOf(Long.MAX_VALUE);
      }
      default -> {
        min = BigInteger.ZERO;
        max = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
      }
    }
    if (big.compareTo(min) < 0 || big.compareTo(max) > 0) {
      throw new Malformed("integer out of range");
    }
    return big.longValue(); // for uint64 above Long.MAX_VALUE: the same 64 bits
  }

  private double readDouble() throws Malformed {
    boolean quoted = peek() == '"';
    if (quoted) {
      pos++;
      for (String special : new String[] {"NaN", "Infinity", "-Infinity"}) {
        if (startsWith(special + "\"")) {
          pos += special.length() + 1;
          return switch (special) {
            case "NaN" -> Double.NaN;
            case "Infinity" -> Double.POSITIVE_INFINITY;
            default -> Double.NEGATIVE_INFINITY;
          };
        }
      }
    }
    number();
    if (quoted) {
      expect('"');
    }
    double d = fastDouble();
    if (Double.isNaN(d)) {
      d = Double.parseDouble(new String(in, numStart, numEnd - numStart, StandardCharsets.US_ASCII));
    }
    if (Double.isInfinite(d)) {
      throw new Malformed("number out of the range of a double");
    }
    return d;
  }

  /**
   * The number just read, when at most 15 significant digits and a power of ten up to 22 make it exact
   * (one correctly rounded multiplication or division of two exact doubles); NaN when it takes the slow
   * path, Double.parseDouble.
   */
  private double fastDouble() {
    int i = numStart;
    boolean negative = in[i] == '-';
    if (negative) {
      i++;
    }
    long mantissa = 0;
    int significant = 0;
    int scale = 0;
    boolean fraction = false;
    for (; i < numEnd; i++) {
      byte c = in[i];
      if (c == '.') {
        fraction = true;
      } else if (c == 'e' || c == 'E') {
        break;
      } else {
        if (mantissa != 0 || c != '0') {
          if (++significant > 15) {
            return Double.NaN;
          }
          mantissa = mantissa * 10 + (c - '0');
        }
        if (fraction) {
          scale--;
        }
      }
    }
    if (i < numEnd) { // the exponent
      i++;
      boolean negativeExponent = in[i] == '-';
      if (in[i] == '-' || in[i] == '+') {
        i++;
      }
      int exponent = 0;
      for (; i < numEnd; i++) {
        exponent = exponent * 10 + (in[i] - '0');
        if (exponent > 400) {
          return Double.NaN;
        }
      }
      scale += negativeExponent ? -exponent : exponent;
    }
    double d;
    if (mantissa == 0) {
      d = 0.0;
    } else if (scale >= 0 && scale < POWERS_OF_TEN.length) {
      d = mantissa * POWERS_OF_TEN[scale];
    } else if (scale < 0 && -scale < POWERS_OF_TEN.length) {
      d = mantissa / POWERS_OF_TEN[-scale];
    } else {
      return Double.NaN;
    }
    return negative ? -d : d;
  }

  /** Reads a JSON number at pos (RFC 8259 grammar) into [numStart, numEnd) and numIntegral. */
  private void number() throws Malformed {
    numStart = pos;
    if (pos < end && in[pos] == '-') {
      pos++;
    }
    if (pos < end && in[pos] == '0') {
      pos++;
    } else if (digits() == 0) {
      throw new Malformed("expected a number");
    }
    numIntegral = true;
    if (pos < end && in[pos] == '.') {
      pos++;
      numIntegral = false;
      if (digits() == 0) {
        throw new Malformed("expected digits after .");
      }
    }
    if (pos < end && (in[pos] == 'e' || in[pos] == 'E')) {
      pos++;
      numIntegral = false;
      if (pos < end && (in[pos] == '+' || in[pos] == '-')) {
        pos++;
      }
      if (digits() == 0) {
        throw new Malformed("expected an exponent");
      }
    }
    numEnd = pos;
  }

  private int digits() {
    int start = pos;
    while (pos < end && in[pos] >= '0' && in[pos] <= '9') {
      pos++;
    }
    return pos - start;
  }

  /**
   * The string whose opening quote is just behind pos, unescaped into `sink` as UTF-8 (checked: Protobuf
   * strings must be valid UTF-8); pos ends after the closing quote.
   */
  private void string(Wire.Sink sink) throws Malformed {
    while (true) {
      int run = pos;
      while (pos < end && (in[pos] < 0 || in[pos] >= 0x20 && in[pos] != '"' && in[pos] != '\\')) {
        if (in[pos] < 0) { // a multi-byte character: checked, then copied with its run
          int more = Wire.utf8Continuations(in, pos, end);
          if (more < 0) {
            throw new Malformed("invalid UTF-8");
          }
          pos += more;
        }
        pos++;
      }
      sink.write(in, run, pos - run);
      if (pos >= end) {
        throw new Malformed("unterminated string");
      }
      byte c = in[pos++];
      if (c == '"') {
        return;
      }
      if (c != '\\') {
        throw new Malformed("control character in a string");
      }
      if (pos >= end) {
        throw new Malformed("unterminated string");
      }
      byte e = in[pos++];
      switch (e) {
        case '"', '\\', '/' -> sink.write(e);
        case 'b' -> sink.write('\b');
        case 'f' -> sink.write('\f');
        case 'n' -> sink.write('\n');
        case 'r' -> sink.write('\r');
        case 't' -> sink.write('\t');
        case 'u' -> {
          int cp = hex4();
          if (Character.isHighSurrogate((char) cp)) {
            if (!startsWith("\\u")) {
              throw new Malformed("lone surrogate");
            }
            pos += 2;
            int low = hex4();
            if (!Character.isLowSurrogate((char) low)) {
              throw new Malformed("lone surrogate");
            }
            cp = Character.toCodePoint((char) cp, (char) low);
          } else if (Character.isLowSurrogate((char) cp)) {
            throw new Malformed("lone surrogate");
          }
          utf8(cp, sink);
        }
        default -> throw new Malformed("bad escape");
      }
    }
  }

  private int hex4() throws Malformed {
    if (pos + 4 > end) {
      throw new Malformed("bad \\u escape");
    }
    int v = 0;
    for (int k = 0; k < 4; k++) {
      int d = Character.digit(in[pos++], 16);
      if (d < 0) {
        throw new Malformed("bad \\u escape");
      }
      v = v << 4 | d;
    }
    return v;
  }

  private static void utf8(int cp, Wire.Sink sink) {
    if (cp < 0x80) {
      sink.write(cp);
    } else if (cp < 0x800) {
      sink.write(0xC0 | cp >> 6);
      sink.write(0x80 | cp & 0x3F);
    } else if (cp < 0x10000) {
      sink.write(0xE0 | cp >> 12);
      sink.write(0x80 | cp >> 6 & 0x3F);
      sink.write(0x80 | cp & 0x3F);
    } else {
      sink.write(0xF0 | cp >> 18);
      sink.write(0x80 | cp >> 12 & 0x3F);
      sink.write(0x80 | cp >> 6 & 0x3F);
      sink.write(0x80 | cp & 0x3F);
    }
  }

  /** Skips any JSON value (of an unknown field), checking its syntax. */
  private void skipValue(int depth) throws Malformed {
    if (depth > Wire.MAX_DEPTH) {
      throw new Malformed("nested too deeply");
    }
    byte c = peek();
    switch (c) {
      case '{' -> {
        pos++;
        whitespace();
        if (peek() == '}') {
          pos++;
          return;
        }
        while (true) {
          expect('"');
          string(SKIPPED);
          whitespace();
          expect(':');
          whitespace();
          skipValue(depth + 1);
          whitespace();
          byte d = next();
          if (d == '}') {
            return;
          }
          if (d != ',') {
            throw new Malformed("expected , or }");
          }
          whitespace();
        }
      }
      case '[' -> {
        pos++;
        whitespace();
        if (peek() == ']') {
          pos++;
          return;
        }
        while (true) {
          skipValue(depth + 1);
          whitespace();
          byte d = next();
          if (d == ']') {
            return;
          }
          if (d != ',') {
            throw new Malformed("expected , or ]");
          }
          whitespace();
        }
      }
      case '"' -> {
        pos++;
        string(SKIPPED);
      }
      case 't' -> literal("true");
      case 'f' -> literal("false");
      case 'n' -> literal("null");
      default -> number();
    }
  }

  /** A sink that keeps nothing: skipped strings are only checked. */
  private static final Wire.Sink SKIPPED = new Wire.Sink() {
    @Override
    void write(int b) {}

    @Override
    void write(byte[] src, int off, int len) {}
  };

  private void literal(String word) throws Malformed {
    if (!startsWith(word)) {
      throw new Malformed("expected " + word);
    }
    pos += word.length();
  }

  private boolean startsWith(String ascii) {
    if (pos + ascii.length() > end) {
      return false;
    }
    for (int k = 0; k < ascii.length(); k++) {
      if (in[pos + k] != ascii.charAt(k)) {
        return false;
      }
    }
    return true;
  }

  private void whitespace() {
    while (pos < end && (in[pos] == ' ' || in[pos] == '\n' || in[pos] == '\r' || in[pos] == '\t')) {
      pos++;
    }
  }

  private byte peek() throws Malformed {
    if (pos >= end) {
      throw new Malformed("unexpected end of JSON");
    }
    return in[pos];
  }

  private byte next() throws Malformed {
    byte c = peek();
    pos++;
    return c;
  }

  private void expect(char c) throws Malformed {
    if (next() != c) {
      throw new Malformed("expected " + c);
    }
  }
}
