package dev.tollgate.api.v1alpha1;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cel.common.ast.CelConstant;
import dev.cel.common.ast.CelExpr;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;

/**
 * The worst-case cost of a CRD validation rule as the Kubernetes API server estimates it when the
 * CRD is created or updated, so that a rule the server would refuse ("estimated rule cost exceeds
 * budget") fails a unit test instead of {@code kubectl apply}.
 *
 * <p>It follows cel-go's static estimator ({@code checker/cost.go}) with the sizes the API server
 * derives from the schema ({@code k8s.io/apiserver/pkg/cel/common/schemas.go}): a string is at most
 * 4 × {@code maxLength} bytes, else as long as its longest enum value, else the 3 MiB request
 * limit; a list has at most {@code maxItems} items, else as many of its smallest items as fit in a
 * request. Only the maximum is tracked, since only it is compared with the budgets. Anything it
 * cannot size is priced as unbounded, so an unfamiliar construct fails loudly rather than passes.
 */
final class CelCost {
  /** {@code apiservercel.DefaultMaxRequestSizeBytes}. */
  static final long MAX_REQUEST_SIZE_BYTES = 3L * 1024 * 1024;

  /** {@code StaticEstimatedCostLimit}: the budget of one rule. */
  static final long PER_RULE_LIMIT = 10_000_000L;

  /** {@code StaticEstimatedCRDCostLimit}: the budget of all rules of a CRD, times cardinality. */
  static final long PER_CRD_LIMIT = 100_000_000L;

  static final long UNBOUNDED = Long.MAX_VALUE;

  private static final double STRING_TRAVERSAL_COST_FACTOR = 0.1;
  private static final double REGEX_STRING_LENGTH_COST_FACTOR = 0.25;
  private static final long LIST_CREATE_BASE_COST = 10;
  private static final long MAP_CREATE_BASE_COST = 30;

  /** What the estimator knows of an expression's value: its schema node, or a plain scalar. */
  private record Shape(JsonNode schema, boolean scalar) {
    static final Shape UNKNOWN = new Shape(null, false);
    static final Shape SCALAR = new Shape(null, true);

    static Shape of(JsonNode schema) {
      return schema == null ? UNKNOWN : new Shape(schema, false);
    }

    String type() {
      return schema == null ? (scalar ? "scalar" : "unknown") : schema.path("type").asText();
    }
  }

  private final JsonNode self;
  private final Deque<Map.Entry<String, Shape>> locals = new ArrayDeque<>();

  private CelCost(JsonNode self) {
    this.self = self;
  }

  /** The estimated maximum cost of one evaluation of {@code rule}. */
  static long of(CrdRules.Rule rule) {
    return new CelCost(rule.schema()).cost(rule.ast().getExpr());
  }

  private long cost(CelExpr e) {
    return switch (e.getKind()) {
      case CONSTANT -> 0;
      case IDENT -> 1;
      case SELECT -> {
        CelExpr.CelSelect select = e.select();
        if (select.testOnly()) {
          yield add(1, cost(select.operand()));
        }
        String operandType = shape(select.operand()).type();
        long fieldCost = operandType.equals("object") || operandType.equals("unknown") ? 1 : 0;
        yield add(fieldCost, cost(select.operand()));
      }
      case CALL -> costCall(e);
      case LIST -> {
        long sum = LIST_CREATE_BASE_COST;
        for (CelExpr element : e.list().elements()) {
          sum = add(sum, cost(element));
        }
        yield sum;
      }
      case MAP -> {
        long sum = MAP_CREATE_BASE_COST;
        for (var entry : e.map().entries()) {
          sum = add(sum, add(cost(entry.key()), cost(entry.value())));
        }
        yield sum;
      }
      case COMPREHENSION -> costComprehension(e.comprehension());
      default -> UNBOUNDED;
    };
  }

  private long costComprehension(CelExpr.CelComprehension c) {
    long sum = add(cost(c.iterRange()), cost(c.accuInit()));
    Shape range = shape(c.iterRange());
    Shape item =
        range.schema() != null && range.schema().has("items")
            ? Shape.of(range.schema().get("items"))
            : Shape.UNKNOWN;
    Shape accu = c.accuInit().getKind() == CelExpr.ExprKind.Kind.CONSTANT ? Shape.SCALAR : null;
    locals.push(Map.entry(c.accuVar(), accu == null ? Shape.UNKNOWN : accu));
    locals.push(Map.entry(c.iterVar(), item));
    long perItem = add(cost(c.loopCondition()), cost(c.loopStep()));
    locals.pop();
    sum = add(sum, cost(c.result()));
    locals.pop();
    return add(sum, multiply(size(c.iterRange()), perItem));
  }

  private long costCall(CelExpr e) {
    CelExpr.CelCall call = e.call();
    List<CelExpr> args = call.args();
    long argCosts = 0;
    for (CelExpr arg : args) {
      argCosts = add(argCosts, cost(arg));
    }
    long target = call.target().map(this::cost).orElse(0L);
    String fn = call.function();
    long fnCost =
        switch (fn) {
          case "_&&_", "_||_" -> argCosts;
          case "_?_:_" -> add(cost(args.get(0)), Math.max(cost(args.get(1)), cost(args.get(2))));
          case "_==_", "_!=_" ->
              add(traversal(Math.min(size(args.get(0)), size(args.get(1)))), argCosts);
          case "_<_", "_<=_", "_>_", "_>=_" ->
              isString(args.get(0)) || isString(args.get(1))
                  ? add(traversal(Math.min(size(args.get(0)), size(args.get(1)))), argCosts)
                  : add(1, argCosts);
          case "@in" -> add(size(args.get(1)), argCosts);
          case "_+_" ->
              isString(args.get(0)) || isString(args.get(1))
                  ? add(traversal(add(size(args.get(0)), size(args.get(1)))), argCosts)
                  : add(1, argCosts);
          case "startsWith", "endsWith" -> add(traversal(size(args.get(0))), argCosts);
          case "contains" ->
              add(
                  multiply(
                      traversal(size(call.target().orElseThrow())), traversal(size(args.get(0)))),
                  argCosts);
          case "matches" -> {
            CelExpr subject = call.target().orElse(args.get(0));
            CelExpr regex = call.target().isPresent() ? args.get(0) : args.get(1);
            yield add(
                multiply(
                    traversal(add(size(subject), 1)),
                    factor(size(regex), REGEX_STRING_LENGTH_COST_FACTOR)),
                argCosts);
          }
          default -> add(1, argCosts);
        };
    return add(target, fnCost);
  }

  /** What the value of {@code e} is, as far as the schema tells. */
  private Shape shape(CelExpr e) {
    switch (e.getKind()) {
      case IDENT -> {
        String name = e.ident().name();
        for (Map.Entry<String, Shape> local : locals) {
          if (local.getKey().equals(name)) {
            return local.getValue();
          }
        }
        return name.equals("self") ? Shape.of(self) : Shape.UNKNOWN;
      }
      case SELECT -> {
        if (e.select().testOnly()) {
          return Shape.SCALAR;
        }
        JsonNode operand = shape(e.select().operand()).schema();
        if (operand == null) {
          return Shape.UNKNOWN;
        }
        JsonNode field = operand.path("properties").get(e.select().field());
        if (field == null && operand.path("additionalProperties").isObject()) {
          field = operand.get("additionalProperties");
        }
        return Shape.of(field);
      }
      case CONSTANT -> {
        return Shape.SCALAR;
      }
      default -> {
        return Shape.UNKNOWN;
      }
    }
  }

  private boolean isString(CelExpr e) {
    return (e.getKind() == CelExpr.ExprKind.Kind.CONSTANT
            && e.constant().getKind() == CelConstant.Kind.STRING_VALUE)
        || shape(e).type().equals("string");
  }

  /** The size ({@code size()} in CEL) of the value of {@code e}, at most. */
  private long size(CelExpr e) {
    if (e.getKind() == CelExpr.ExprKind.Kind.CONSTANT) {
      return e.constant().getKind() == CelConstant.Kind.STRING_VALUE
          ? e.constant().stringValue().length()
          : 1;
    }
    if (e.getKind() == CelExpr.ExprKind.Kind.LIST) {
      return e.list().elements().size();
    }
    Shape shape = shape(e);
    if (shape.scalar()) {
      return 1;
    }
    JsonNode s = shape.schema();
    if (s == null) {
      return UNBOUNDED;
    }
    return switch (s.path("type").asText()) {
      case "string" -> maxStringLength(s);
      case "array" -> maxItems(s);
      case "object" -> s.path("additionalProperties").isObject() ? maxProperties(s) : UNBOUNDED;
      case "integer", "number", "boolean" -> 1;
      default -> UNBOUNDED;
    };
  }

  /** {@code estimateMaxElementsFromMaxLength} / {@code estimateMaxStringEnumLength} / request. */
  static long maxStringLength(JsonNode s) {
    if (s.has("maxLength")) {
      return s.get("maxLength").asLong() * 4;
    }
    if (s.has("enum")) {
      long longest = 0;
      for (JsonNode v : s.get("enum")) {
        longest = Math.max(longest, v.asText().length());
      }
      return longest;
    }
    return MAX_REQUEST_SIZE_BYTES - 2;
  }

  /** {@code maxItems}, else {@code estimateMaxArrayItemsFromMinSize}. */
  static long maxItems(JsonNode array) {
    if (array.has("maxItems")) {
      return array.get("maxItems").asLong();
    }
    return (MAX_REQUEST_SIZE_BYTES - 2) / (minSerializedSize(array.path("items")) + 1);
  }

  /** {@code maxProperties}, else {@code estimateMaxAdditionalPropertiesFromMinSize}. */
  static long maxProperties(JsonNode map) {
    if (map.has("maxProperties")) {
      return map.get("maxProperties").asLong();
    }
    return (MAX_REQUEST_SIZE_BYTES - 2) / (minSerializedSize(map.path("additionalProperties")) + 6);
  }

  /** The smallest JSON a value of the schema serializes to, as the API server counts it. */
  static long minSerializedSize(JsonNode s) {
    return switch (s.path("type").asText()) {
      case "string" -> 2;
      case "integer", "number" -> 1;
      case "boolean" -> 4;
      case "array" -> 2;
      case "object" -> {
        long size = 2;
        for (JsonNode required : s.path("required")) {
          JsonNode prop = s.path("properties").path(required.asText());
          if (!prop.isMissingNode() && !prop.has("default")) {
            size += required.asText().length() + minSerializedSize(prop) + 4;
          }
        }
        yield size;
      }
      default -> 1;
    };
  }

  private static long traversal(long size) {
    return factor(size, STRING_TRAVERSAL_COST_FACTOR);
  }

  private static long factor(long size, double factor) {
    if (size == UNBOUNDED) {
      return UNBOUNDED;
    }
    return (long) Math.ceil(size * factor);
  }

  static long add(long a, long b) {
    long sum = a + b;
    return sum < 0 || a == UNBOUNDED || b == UNBOUNDED ? UNBOUNDED : sum;
  }

  static long multiply(long a, long b) {
    if (a == 0 || b == 0) {
      return 0;
    }
    return a > UNBOUNDED / b ? UNBOUNDED : a * b;
  }
}
