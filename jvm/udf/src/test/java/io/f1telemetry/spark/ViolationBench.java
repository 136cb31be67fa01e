package io.f1telemetry.spark;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A rough microbenchmark of f1_telemetry_json_violation: µs per record over a file of JSON telemetry
 * texts, one per line (every one must be valid). Not a unit test; run by hand:
 *
 * <pre>
 * java -cp jvm/udf/target/classes:jvm/udf/target/test-classes:.venv/lib/python3.11/site-packages/pyspark/jars/* \
 *     io.f1telemetry.spark.ViolationBench records.jsonl
 * </pre>
 */
public final class ViolationBench {
  private ViolationBench() {}

  public static void main(String[] args) throws Exception {
    List<String> texts = Files.readAllLines(Path.of(args[0]));
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    TelemetryJsonViolation udf = new TelemetryJsonViolation();
    for (String text : texts) {
      String violation = udf.call(text);
      if (violation != null) {
        throw new AssertionError(violation + ": " + text);
      }
    }
    for (int round = 0; round < rounds; round++) {
      long start = System.nanoTime();
      int bad = 0;
      for (String text : texts) {
        if (udf.call(text) != null) {
          bad++;
        }
      }
      long ns = System.nanoTime() - start;
      System.out.printf("round %d: %d records, %.2f µs/record (%d invalid)%n", round, texts.size(),
          ns / 1000.0 / texts.size(), bad);
    }
  }
}
