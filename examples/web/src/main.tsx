import { createRoot } from "react-dom/client";
import { App } from "./App.tsx";
import "./styles.css";

// No StrictMode: it mounts components twice in development, and a second mount aborts the
// first resume request, which the SDK's transport treats as stop().
createRoot(document.getElementById("root")!).render(<App />);
