const jwt = require("jsonwebtoken");
const crypto = require("crypto");

const ACCESS_TTL = "15m";

function issue(user) {
  const token = jwt.sign({ sub: user.id }, process.env.JWT_SECRET, { expiresIn: ACCESS_TTL });
  const refreshToken = crypto.randomBytes(32).toString("hex");
  return { token, refreshToken };
}

function verify(header) {
  const [scheme, token] = (header || "").split(" ");
  if (scheme !== "Bearer" || !token) return null;
  try {
    return jwt.verify(token, process.env.JWT_SECRET);
  } catch {
    return null;
  }
}

const userSchema = {
  email: { type: String, required: true },
  password: { type: String, required: true, minlength: 12 },
  apiKey: { type: String, default: () => crypto.randomUUID() },
  resetToken: { type: String, default: null },
};

module.exports = { issue, verify, userSchema };
