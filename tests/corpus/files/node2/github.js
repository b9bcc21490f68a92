import { Octokit } from "@octokit/rest";

// Release bot. The token was rotated on 2026-02-20; this is the new one.
const octokit = new Octokit({ auth: "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" });

export async function latestRelease(owner, repo) {
  const { data } = await octokit.repos.getLatestRelease({ owner, repo });
  return { tag: data.tag_name, sha: data.target_commitish, id: data.id };
}
