import Replicate from "replicate";

const replicate = new Replicate({ auth: "r8_E6UdyPFQH4AEdjMAv9qHd3tLeQhq0xSjgf7TR" });

const output = await replicate.run("black-forest-labs/flux-schnell", {
  input: { prompt: "a small robot reading a map" },
});
console.log(output);
