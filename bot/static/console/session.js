// Who is signed in and which conversation is open, shared by the console's modules.
export const session = {
  me: "", // the signed-in agent's name (GET /api/agent/queue says it)
  selected: null, // the open conversation's id
  current: null, // the open conversation, as GET /api/agent/conversations/{id} gave it
};
