package io.f1telemetry.spark;

import org.apache.spark.sql.api.java.UDF1;

/**
 * Spark function f1_telemetry_json_violation(text STRING) STRING: NULL when `text` is a TelemetryEvent in
 * the contract's JSON encoding - it satisfies the registered JSON Schema
 * (schemas/f1.telemetry.v1.TelemetryEvent.json, a jar resource) and so carries exactly one payload of the
 * oneof - else a short detail of the first violation, naming its JSON path: "$.position.foo: unknown
 * field", "$.car_number: expected integer, got string \"7\"", "two payloads: position and dynamics",
 * "not a JSON object (got array)"; a text that is no JSON at all (syntax error, NaN, empty, trailing
 * content) gives a detail starting "not valid JSON". NULL in, NULL out.
 *
 * <p>The schema is compiled when this class initialises (registering the function does that), and
 * anything in it the checker does not understand fails right there ({@link JsonSchemaCheck}).
 */
public final class TelemetryJsonViolation implements UDF1<String, String> {
  private static final long serialVersionUID = 1L;
  static final String SCHEMA = "/f1/schemas/f1.telemetry.v1.TelemetryEvent.json";
  private static final JsonSchemaCheck CHECK = JsonSchemaCheck.load(SCHEMA);

  @Override
  public String call(String text) {
    return text == null ? null : CHECK.violation(text);
  }
}
