package io.f1telemetry.spark;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Protobuf wire-format helpers for our Spark functions, kept allocation-free because they run once per
 * event: a growable output buffer, a UTF-8 check, and a validating scan of encoded messages.
 */
final class Wire {
  private Wire() {}

  static final int VARINT = 0;
  static final int I64 = 1;
  static final int LEN = 2;
  static final int I32 = 5;
  /** Deeper nesting than this is garbage (the contracts nest two levels): guards the stack. */
  static final int MAX_DEPTH = 32;

  static int wireType(FieldDescriptor field) {
    return switch (field.getType()) {
      case DOUBLE, FIXED64, SFIXED64 -> I64;
      case FLOAT, FIXED32, SFIXED32 -> I32;
      case STRING, BYTES, MESSAGE -> LEN;
      case GROUP -> throw new IllegalStateException("groups are not supported: " + field.getFullName());
      default -> VARINT;
    };
  }

  static int varintSize(long value) {
    int size = 1;
    while ((value & ~0x7FL) != 0) {
      value >>>= 7;
      size++;
    }
    return size;
  }

  /** Writes a varint at `pos` of `out`; returns the position after it. */
  static int putVarint(byte[] out, int pos, long value) {
    while ((value & ~0x7FL) != 0) {
      out[pos++] = (byte) ((value & 0x7F) | 0x80);
      value >>>= 7;
    }
    out[pos++] = (byte) value;
    return pos;
  }

  /** A growable byte buffer; reused per thread, so that encoding an event allocates nothing. */
  static class Sink {
    byte[] buf = new byte[512];
    int pos;

    void reset() {
      pos = 0;
    }

    void ensure(int more) {
      if (pos + more > buf.length) {
        buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + more));
      }
    }

    void write(int b) {
      ensure(1);
      buf[pos++] = (byte) b;
    }

    void write(byte[] src, int off, int len) {
      ensure(len);
      System.arraycopy(src, off, buf, pos, len);
      pos += len;
    }

    void varint(long value) {
      ensure(10);
      pos = putVarint(buf, pos, value);
    }

    void fixed32(int value) {
      ensure(4);
      for (int i = 0; i < 4; i++) {
        buf[pos++] = (byte) (value >>> (8 * i));
      }
    }

    void fixed64(long value) {
      ensure(8);
      for (int i = 0; i < 8; i++) {
        buf[pos++] = (byte) (value >>> (8 * i));
      }
    }

    /**
     * Starts a length-delimited value whose length is not known yet: reserves one byte for it and
     * returns where the content starts. {@link #end} writes the length, moving the content when the
     * length needs a longer varint (rare: only values of 128 bytes or more).
     */
    int begin() {
      ensure(1);
      pos++;
      return pos;
    }

    /** The length of the content since `start`. */
    int end(int start) {
      int length = pos - start;
      int size = varintSize(length);
      if (size > 1) {
        ensure(size - 1);
        System.arraycopy(buf, start, buf, start + size - 1, length);
        pos += size - 1;
      }
      putVarint(buf, start - 1, length);
      return length;
    }
  }

  /** Whether bytes [from, to) are well-formed UTF-8 (no overlong forms, surrogates or values > U+10FFFF). */
  static boolean validUtf8(byte[] b, int from, int to) {
    int i = from;
    while (i < to) {
      int b0 = b[i];
      if (b0 >= 0) {
        i++;
        continue;
      }
      int need = utf8Continuations(b, i, to);
      if (need < 0) {
        return false;
      }
      i += need + 1;
    }
    return true;
  }

  /**
   * The number of continuation bytes of the multi-byte UTF-8 sequence starting at `i`, checked, or -1
   * when it is not valid UTF-8 (truncated, overlong, a surrogate, beyond U+10FFFF).
   */
  static int utf8Continuations(byte[] b, int i, int to) {
    int b0 = b[i] & 0xFF;
    int need;
    int min = 0x80;
    int max = 0xBF;
    if (b0 < 0xC2) {
      return -1; // a stray continuation byte, or an overlong two-byte form
    } else if (b0 < 0xE0) {
      need = 1;
    } else if (b0 < 0xF0) {
      need = 2;
      if (b0 == 0xE0) {
        min = 0xA0; // overlong
      } else if (b0 == 0xED) {
        max = 0x9F; // UTF-16 surrogates
      }
    } else if (b0 < 0xF5) {
      need = 3;
      if (b0 == 0xF0) {
        min = 0x90; // overlong
      } else if (b0 == 0xF4) {
        max = 0x8F; // beyond U+10FFFF
      }
    } else {
      return -1;
    }
    if (i + need >= to) {
      return -1; // truncated
    }
    int b1 = b[i + 1] & 0xFF;
    if (b1 < min || b1 > max) {
      return -1;
    }
    for (int k = 2; k <= need; k++) {
      int c = b[i + k] & 0xFF;
      if (c < 0x80 || c > 0xBF) {
        return -1;
      }
    }
    return need;
  }

  /**
   * What a validating scan needs of one message type: per field number, the wire type the contract
   * gives it, whether it is a string (UTF-8 checked, as protobuf parsers do for proto3) and the shape of
   * a message field.
   */
  static final class Shape {
    private static final Map<Descriptor, Shape> SHAPES = new HashMap<>();

    final int[] wireType; // by field number; -1 for numbers the contract does not have
    final boolean[] utf8;
    final boolean[] packable;
    final Shape[] nested;

    private Shape(int maxNumber) {
      wireType = new int[maxNumber + 1];
      Arrays.fill(wireType, -1);
      utf8 = new boolean[maxNumber + 1];
      packable = new boolean[maxNumber + 1];
      nested = new Shape[maxNumber + 1];
    }

    static synchronized Shape of(Descriptor type) {
      Shape shape = SHAPES.get(type);
      if (shape != null) {
        return shape;
      }
      int max = 0;
      for (FieldDescriptor field : type.getFields()) {
        max = Math.max(max, field.getNumber());
      }
      if (max > 4096) {
        throw new IllegalStateException(type.getFullName() + ": field numbers too sparse for a table");
      }
      shape = new Shape(max);
      SHAPES.put(type, shape); // before the fields: a recursive type finds itself
      for (FieldDescriptor field : type.getFields()) {
        int n = field.getNumber();
        shape.wireType[n] = wireType(field);
        shape.utf8[n] = field.getType() == FieldDescriptor.Type.STRING;
        shape.packable[n] = field.isPackable();
        if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
          shape.nested[n] = of(field.getMessageType());
        }
      }
      return shape;
    }

    /**
     * Whether bytes [from, to) are a well-formed encoding of this type: every tag, varint and length
     * in bounds, the contract's fields with their own wire type (packed or not for repeated scalars),
     * strings valid UTF-8, nested messages likewise. Unknown field numbers are skipped, as parsers do
     * (a newer producer's additions). Nothing is allocated and no value is decoded.
     */
    boolean valid(byte[] b, int from, int to) {
      return new Scanner(b, to).message(this, from, to, 0);
    }
  }

  private static final class Scanner {
    private final byte[] b;
    private final int limit;
    private int pos;
    private boolean ok = true;

    Scanner(byte[] b, int limit) {
      this.b = b;
      this.limit = limit;
    }

    boolean message(Shape shape, int from, int to, int depth) {
      if (depth > MAX_DEPTH) {
        return false;
      }
      pos = from;
      while (pos < to) {
        long tag = varint(to);
        if (!ok || tag > 0xFFFFFFFFL) {
          return false;
        }
        int number = (int) (tag >>> 3);
        int wire = (int) (tag & 7);
        if (number == 0) {
          return false;
        }
        boolean known = number < shape.wireType.length && shape.wireType[number] >= 0;
        if (known && wire != shape.wireType[number] && !(wire == LEN && shape.packable[number])) {
          return false;
        }
        switch (wire) {
          case VARINT -> {
            varint(to);
            if (!ok) {
              return false;
            }
          }
          case I64 -> pos += 8;
          case I32 -> pos += 4;
          case LEN -> {
            long length = varint(to);
            if (!ok || length < 0 || length > to - pos) {
              return false;
            }
            int start = pos;
            int end = start + (int) length;
            if (known && shape.nested[number] != null && wire == shape.wireType[number]) {
              if (!message(shape.nested[number], start, end, depth + 1)) {
                return false;
              }
            } else if (known && shape.utf8[number] && !validUtf8(b, start, end)) {
              return false;
            }
            pos = end;
          }
          default -> {
            return false; // groups (proto2 only) and the undefined wire types 6 and 7
          }
        }
        if (pos > to) {
          return false;
        }
      }
      return pos == to;
    }

    private long varint(int to) {
      long value = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        if (pos >= to || pos >= limit) {
          ok = false;
          return 0;
        }
        byte x = b[pos++];
        value |= (long) (x & 0x7F) << shift;
        if (x >= 0) {
          return value;
        }
      }
      ok = false; // more than ten bytes
      return 0;
    }
  }
}
